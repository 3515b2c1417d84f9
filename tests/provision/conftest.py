"""Fixtures of the provisioning harness: a debootstrap image (cached across runs), the signed stand-in repository,
overlay targets, inventories with a rack of H100 nodes, a converged fleet the scenarios share, a real sshd.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from rackctl.inventory.db import Database
from rackctl.lab.provision import image, standins
from tests.provision.harness import Fleet, Lab, free_port, make_inventory, run


@pytest.fixture(scope="session")
def lab_image() -> Path:
    return image.base_image()


@pytest.fixture(scope="session")
def standin_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return standins.build_repo(tmp_path_factory.mktemp("standin-repo"))


@pytest.fixture(scope="session")
def inventory_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("inventory") / "inventory.db"
    make_inventory(path).dispose()
    return path


@pytest.fixture
def inventory(inventory_template: Path, tmp_path: Path) -> Iterator[Database]:
    shutil.copy(inventory_template, tmp_path / "inventory.db")
    db = Database(f"sqlite:///{tmp_path / 'inventory.db'}")
    yield db
    db.dispose()


@pytest.fixture
def lab(tmp_path: Path, lab_image: Path, standin_repo: Path) -> Iterator[Lab]:
    lab = Lab(tmp_path / "lab", lab_image, standin_repo)
    yield lab
    lab.stop()


@pytest.fixture(scope="session")
def fleet(
    tmp_path_factory: pytest.TempPathFactory, lab_image: Path, standin_repo: Path, inventory_template: Path
) -> Iterator[Fleet]:
    root = tmp_path_factory.mktemp("fleet")
    shutil.copy(inventory_template, root / "inventory.db")
    db = Database(f"sqlite:///{root / 'inventory.db'}")
    lab = Lab(root / "lab", lab_image, standin_repo)
    try:
        for name, os_name in (("gpu-r12-u03", "ubuntu-22.04"), ("gpu-r12-u11", "ubuntu-24.04")):
            # A server image carries its kernel's meta-packages: provisioning must hold them.
            lab.target(name, os_name=os_name).install("linux-generic")
        override = lab.override()
        hosts = ("gpu-r12-u03", "gpu-r12-u11")
        started = time.monotonic()
        first = run(db, hosts, override, root / "ansible")
        converge = time.monotonic() - started
        second = run(db, hosts, override, root / "ansible")
        idempotence = time.monotonic() - started - converge
        lab.targets[0].stop()
        layer = lab.targets[0].snapshot(root / "converged-layer")
        lab.targets[0].start()
        yield Fleet(db, lab, override, root / "ansible", first, second, (converge, idempotence), layer)
    finally:
        lab.stop()
        db.dispose()


@pytest.fixture(scope="session")
def sshd_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sshd")


@pytest.fixture(scope="session")
def sshd_host_key(sshd: int, sshd_root: Path) -> Path:
    """The public host key the server on `sshd` proves itself with."""
    return sshd_root / "hostkey.pub"


@pytest.fixture(scope="session")
def sshd(sshd_root: Path) -> Iterator[int]:
    """A real OpenSSH server on 127.0.0.1 (what bring-up waits for); yields its port."""
    root = sshd_root
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(root / "hostkey")], check=True)
    port = free_port()
    (root / "sshd_config").write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {root / 'hostkey'}\nPidFile {root / 'sshd.pid'}\n"
        "UsePAM no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
    )
    Path("/run/sshd").mkdir(exist_ok=True)
    server = subprocess.Popen(
        ["/usr/sbin/sshd", "-D", "-e", "-f", str(root / "sshd_config")], stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.05)
    yield port
    server.terminate()
    server.wait(timeout=10)
