"""Serve sushy-tools' Redfish emulator on one address per simulated BMC, from one process.

    python -m rackctl.lab.redfish_server CONFIG.json

sushy-tools implements Redfish (systems, reset, boot override, managers, chassis, virtual media, secure
boot, BIOS and SimpleUpdate routes); this launcher gives each node its own listening socket, so addresses
look like a real management network, and lets the lab make one node's BMC dead, slow, or refuse its
password through flag files in the node's folder: `dead` (stop listening), `slow` (seconds to wait
before each answer), `wrong-password` (401 always).

NOTE(sushy-tools 2.2.0): its fake systems driver has no BIOS and no firmware versions (`get_bios` and
`get_versions` raise NotSupportedError, so /BIOS answers an error and SimpleUpdate fails); only the libvirt
driver keeps them. `lab_systems` gives the fake driver the same four methods, kept in each system's
persistent record with the libvirt driver's defaults, so sushy-tools' own routes serve them. As with
libvirt, a BIOS PATCH applies at once (the Settings resource repeats the current attributes).
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

FLAG_POLL_S = 0.2


def _fault_layer(app: Any, folder: Path) -> Any:
    def layer(environ: dict[str, Any], start_response: Any) -> Any:
        slow = folder / "slow"
        if slow.exists():
            time.sleep(float(slow.read_text().strip() or 0))
        if (folder / "wrong-password").exists() and environ.get("HTTP_AUTHORIZATION"):
            start_response("401 Unauthorized", [("Content-Type", "application/json")])
            return [b'{"error": {"message": "Invalid credentials"}}']
        return app(environ, start_response)

    return layer


class NodeListener:
    """One node's socket: up unless its `dead` flag exists."""

    def __init__(self, app: Any, spec: dict[str, Any], ssl_context: tuple[str, str] | None) -> None:
        self.app = _fault_layer(app, Path(spec["folder"]))
        self.address, self.port = spec["address"], int(spec["port"])
        self.flag = Path(spec["folder"]) / "dead"
        self.ssl_context = ssl_context
        self.server: Any = None

    def sync(self) -> None:
        from werkzeug.serving import make_server

        if self.flag.exists() and self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
        elif not self.flag.exists() and self.server is None:
            self.server = make_server(self.address, self.port, self.app, threaded=True, ssl_context=self.ssl_context)
            threading.Thread(target=self.server.serve_forever, daemon=True).start()


def lab_systems(base: Any, defaults: Any) -> Any:
    """sushy-tools' fake driver with BIOS attributes and firmware versions (see the module's NOTE)."""

    class LabSystems(base):
        def get_bios(self, identity: str) -> dict[str, Any]:
            return dict(self._get(identity).get("bios") or defaults.DEFAULT_BIOS_ATTRIBUTES)

        def set_bios(self, identity: str, attributes: dict[str, Any]) -> None:
            self._update(identity, bios={**self.get_bios(identity), **(attributes or {})})

        def reset_bios(self, identity: str) -> None:
            self._update(identity, bios=dict(defaults.DEFAULT_BIOS_ATTRIBUTES))

        def get_versions(self, identity: str) -> dict[str, str]:
            return dict(self._get(identity).get("versions") or defaults.DEFAULT_FIRMWARE_VERSIONS)

        def set_versions(self, identity: str, versions: dict[str, str]) -> None:
            self._update(identity, versions={**self.get_versions(identity), **versions})

    return LabSystems


def main(config_path: str) -> None:
    config = json.loads(Path(config_path).read_text())
    os.environ["SUSHY_EMULATOR_CONFIG"] = config["sushy_config"]
    from sushy_tools.emulator import main as sushy  # reads its configuration at import
    from sushy_tools.emulator.resources.systems import fakedriver, libvirtdriver

    # The application looks the driver class up when it first serves a system: replace it before that.
    fakedriver.FakeDriver = lab_systems(fakedriver.FakeDriver, libvirtdriver.LibvirtDriver)

    sushy.app.config["SUSHY_EMULATOR_FAKE_DRIVER"] = True
    ssl_context = (config["certificate"], config["key"]) if config.get("certificate") else None
    listeners = [NodeListener(sushy.app.wsgi_app, spec, ssl_context) for spec in config["listen"]]
    for listener in listeners:
        listener.sync()
    Path(config["ready"]).write_text(str(os.getpid()))
    while True:
        time.sleep(FLAG_POLL_S)
        for listener in listeners:
            listener.sync()


if __name__ == "__main__":
    main(sys.argv[1])
