"""Time a fresh converge and an idempotent rerun of playbooks/site.yml on one chroot target: through
`rackctl provision` (ansible-runner, events, oplog, lifecycle) and through plain `ansible-playbook` with the
same inventory, and print the ratios (rackctl's overhead over the reference tool). Needs root.

python bench/provision.py
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import yaml

from rackctl.lab.provision import image, standins
from rackctl.lab.provision.inventory import make_inventory
from rackctl.lab.provision.targets import Target, override_inventory
from rackctl.paths import shipped_dir
from rackctl.services.provision import RunSpec, provision


def _target(root: Path, name: str, base: Path, repo: Path) -> tuple[Target, Path]:
    target = Target(name, root / name, [base], repo).start()
    override = root / f"{name}.yml"
    override.write_text(yaml.safe_dump(override_inventory([target])))
    return target, override


def _timed(run: Callable[[], object]) -> float:
    started = time.monotonic()
    run()
    return time.monotonic() - started


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        base, repo = image.base_image(), standins.build_repo(root / "repo")
        db = make_inventory(root / "inventory.db")
        first, ours = _target(root, "gpu-r12-u03", base, repo)
        second, theirs = _target(root, "gpu-r12-u11", base, repo)
        spec = RunSpec(hosts=("gpu-r12-u03",), db_url=db.url, state_dir=root / "ansible", overrides=(ours,))
        rackctl = [_timed(lambda: provision(db, spec, "bench")) for _ in range(2)]
        command = [
            "ansible-playbook",
            "-i",
            str(shipped_dir("inventory") / "rackctl_inventory.py"),
            "-i",
            str(theirs),
            "--limit",
            "gpu-r12-u11",
            "site.yml",
        ]
        env = {**os.environ, "RACKCTL_DB_URL": db.url}
        plain = [
            _timed(
                lambda: subprocess.run(command, cwd=shipped_dir("playbooks"), env=env, check=True, capture_output=True)
            )
            for _ in range(2)
        ]
        for label, mine, ref in (("converge", rackctl[0], plain[0]), ("idempotent rerun", rackctl[1], plain[1])):
            print(f"{label:17} rackctl provision {mine:6.1f}s  ansible-playbook {ref:6.1f}s  ratio {mine / ref:.2f}")
        first.stop()
        second.stop()
        db.dispose()


if __name__ == "__main__":
    main()
