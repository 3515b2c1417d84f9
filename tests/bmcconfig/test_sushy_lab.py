"""BMC-side configuration against sushy-tools' emulator in the lab: BIOS attributes (its registry), virtual
media (it downloads the image from rackctl's server), the CD as next boot device, Secure Boot, and a BIOS
SimpleUpdate (it raises the BIOS version's minor number and answers 204 with a task Location)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import yaml

from rackctl.paths import shipped_dir

pytestmark = pytest.mark.lab


def _template(tmp_path: Path) -> Path:
    data = yaml.safe_load((shipped_dir("rack_templates") / "l40s-8node.yaml").read_text())
    (name,) = data["profiles"]
    profile = data["profiles"][name]
    profile["bios_firmware"] = "1.0.0"
    profile["bios"] = {"boot_mode": "legacy", "secure_boot": True, "attributes": {"ProcTurboMode": "Disabled"}}
    image = tmp_path / "bios.bin"
    image.write_bytes(b"sushy-tools does not read the image it is given\n")
    digest = hashlib.sha256(image.read_bytes()).hexdigest()
    profile["firmware"] = {"bios": {"version": "1.1.0", "image": str(image), "sha256": digest}}
    path = tmp_path / "l40s-bmc-config.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_bios_media_boot_and_firmware_on_sushy_tools(cli, db, tmp_path):
    assert cli("rack", "create", "r20", "-t", str(_template(tmp_path)), "-s", "fra1").exit_code == 0
    up = cli("lab", "up", "r20", "--no-hosts")
    assert up.exit_code == 0, up.stderr
    try:
        _bios(cli)
        _media(cli, tmp_path)
        _firmware(cli)
    finally:
        cli("lab", "down")


def _bios(cli) -> None:
    diff = cli("bios", "diff", "gpu-r20-u03", "--json").json()[0]["value"]
    assert diff["vendor"] == "dmtf-example"  # sushy-tools serves DMTF's example registry, BiosAttributeRegistryP89
    rows = {r["attribute"]: r for r in diff["rows"]}
    assert (rows["BootMode"]["current"], rows["BootMode"]["wanted"]) == ("Uefi", "Bios")
    assert (rows["SecureBootEnable"]["current"], rows["SecureBootEnable"]["wanted"]) == (False, True)
    applied = cli("bios", "apply", "gpu-r20-u03", "--yes", "--json")
    assert applied.exit_code == 0, applied.stdout + applied.stderr
    # sushy-tools applies a BIOS PATCH at once: nothing stays pending
    after = cli("bios", "diff", "gpu-r20-u03", "--json").json()[0]["value"]
    assert {r["attribute"]: r["status"] for r in after["rows"]} == {
        "BootMode": "ok", "ProcTurboMode": "ok", "SecureBootEnable": "ok"}  # fmt: skip


def _media(cli, tmp_path: Path) -> None:
    iso = tmp_path / "installer.iso"
    iso.write_bytes(b"\0" * 65536)
    digest = hashlib.sha256(iso.read_bytes()).hexdigest()
    inserted = cli("media", "insert", "gpu-r20-u03", "--image", str(iso), "--sha256", digest, "--serve-for", "0s",
                   "--yes", "--json")  # fmt: skip
    assert inserted.exit_code == 0, inserted.stdout + inserted.stderr
    status = cli("media", "status", "gpu-r20-u03", "--json").json()[0]["value"]
    cd = next(s for s in status if "CD" in s["media_types"])
    assert cd["inserted"] and cd["image"].endswith("/installer.iso")
    assert cli("boot", "cd", "gpu-r20-u03", "--once").exit_code == 0
    ejected = cli("media", "eject", "gpu-r20-u03", "--yes", "--json")
    assert ejected.exit_code == 0 and ejected.json()[0]["message"].startswith("Cd: ejected")


def _firmware(cli) -> None:
    plan = cli("firmware", "plan", "gpu-r20-u03", "--json").json()[0]["value"]
    assert [(s["kind"], s["components"][0]["version"]) for s in plan["steps"]] == [("bios", "1.0.0")]
    result = cli("firmware", "update", "gpu-r20-u03", "--no-reboot", "--poll", "0.2s", "--yes", "--json")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "not rebooted" in result.json()[0]["message"]
    after = cli("firmware", "inventory", "gpu-r20-u03", "--json").json()[0]["value"]
    assert {c["kind"]: c["version"] for c in after}["bios"] == "1.1.0"
