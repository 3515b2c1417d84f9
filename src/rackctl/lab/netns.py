"""Lab hosts: one network namespace each, reached over a veth pair, running a real OpenSSH server.

Host i gets the /30 number i of 10.250.0.0/16: .1 on the root side, .2 inside the namespace. Each sshd
runs in a private mount and UTS namespace, so a host can have its own hostname and files bind-mounted
over the system's (stand-in `nvidia-smi`, a recorded /proc/net/bonding ...) without touching the machine.
Every namespace and link carries the lab's prefix, so teardown and leak checks find exactly them.
"""

from __future__ import annotations

import fcntl
import ipaddress
import shlex
import socket
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from rackctl.lab import processes
from rackctl.lab.processes import LabError
from rackctl.paths import child

HOST_NETWORK = ipaddress.ip_network("10.250.0.0/16")
LOCK_FILE = "/tmp/rackctl-lab-netns.lock"
MAX_HOSTS = HOST_NETWORK.num_addresses // 4


@dataclass(frozen=True)
class HostSpec:
    """What one lab host should look like."""

    name: str
    hostname: str = ""
    # (source on this machine, path inside the host): bind-mounted before sshd starts.
    binds: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class NetnsHost:
    """A running lab host and how to reach it."""

    name: str
    namespace: str
    address: str
    peer_address: str
    link: str
    pid: int
    port: int = 22

    def as_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class SshKeys:
    """The lab's client key (rackctl, Ansible) and the host key all lab hosts present."""

    client: Path
    host: Path
    authorized: Path
    known_hosts: Path = field(default=Path("/dev/null"))


def public_key(private: Path) -> tuple[str, str]:
    """(key type, base64) of the public half of an OpenSSH key file."""
    kind, blob = private.with_suffix(".pub").read_text().split()[:2]
    return kind, blob


def addresses(index: int) -> tuple[str, str]:
    """(root side, namespace side) addresses of host number `index`."""
    if not 0 <= index < MAX_HOSTS:
        raise LabError(f"lab host number {index} is outside 0..{MAX_HOSTS - 1}")
    base = HOST_NETWORK.network_address + index * 4
    return str(base + 1), str(base + 2)


def ensure_keys(folder: Path) -> SshKeys:
    """Create the lab's SSH keys once (ed25519, no passphrase)."""
    folder.mkdir(parents=True, exist_ok=True)
    keys = SshKeys(folder / "id_ed25519", folder / "ssh_host_ed25519_key", folder / "authorized_keys")
    for path in (keys.client, keys.host):
        if not path.exists():
            processes.run_tool(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "rackctl-lab", "-f", str(path)])
    keys.authorized.write_text(keys.client.with_suffix(".pub").read_text())
    keys.authorized.chmod(0o600)
    return keys


def _names(prefix: str, index: int) -> tuple[str, str, str]:
    # Interface names are limited to 15 characters: keep prefixes short (e.g. "rk3f").
    return f"{prefix}-{index}", f"{prefix}h{index}", f"{prefix}n{index}"


def plumb(prefix: str, indexes: Sequence[int]) -> None:
    """Create the namespaces and veth pairs of many hosts: one `ip -batch` outside, one per namespace."""
    outside_lines = []
    for index in indexes:
        ns, outside, inside = _names(prefix, index)
        root, _ = addresses(index)
        outside_lines += [
            f"netns add {ns}",
            f"link add {outside} type veth peer name {inside} netns {ns}",
            f"addr add {root}/30 dev {outside}",
            f"link set {outside} up",
        ]
    processes.run_tool(["ip", "-batch", "-"], stdin="\n".join(outside_lines) + "\n")
    # `ip -batch` takes no -n per line, so each namespace gets its own short batch, a few at a time.
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda i: _plumb_inside(prefix, i), indexes))


def _plumb_inside(prefix: str, index: int) -> None:
    ns, _, inside = _names(prefix, index)
    _, peer = addresses(index)
    lines = ["link set lo up", f"addr add {peer}/30 dev {inside}", f"link set {inside} up"]
    processes.run_tool(["ip", "-n", ns, "-batch", "-"], stdin="\n".join(lines) + "\n")


def _sshd_config(folder: Path, keys: SshKeys, address: str) -> Path:
    config = folder / "sshd_config"
    config.write_text(
        "\n".join(
            [
                f"ListenAddress {address}",
                f"HostKey {keys.host}",
                f"AuthorizedKeysFile {keys.authorized}",
                "PermitRootLogin prohibit-password",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "UsePAM no",
                "StrictModes no",
                "UseDNS no",
                "MaxStartups 100:30:200",
                f"PidFile {folder / 'sshd.pid'}",
                "LogLevel ERROR",
                "",
            ]
        )
    )
    return config


def _sshd_argv(namespace: str, spec: HostSpec, config: Path) -> list[str]:
    steps = ["mount -t tmpfs tmpfs /run", "mkdir -p /run/sshd"]
    steps += [f"mount --bind {shlex.quote(src)} {shlex.quote(dst)}" for src, dst in spec.binds]
    if spec.hostname:
        steps.append(f"hostname {shlex.quote(spec.hostname)}")
    steps.append(f"exec /usr/sbin/sshd -D -e -f {shlex.quote(str(config))}")
    script = " && ".join(steps)
    return [
        "ip",
        "netns",
        "exec",
        namespace,
        "unshare",
        "--mount",
        "--uts",
        "--propagation",
        "private",
        "sh",
        "-c",
        script,
    ]


def _indexes_in_use() -> set[int]:
    listed = processes.run_tool(["ip", "-o", "-4", "addr", "show"])
    used = set()
    for word in listed.split():
        address = word.split("/")[0]
        try:
            parsed = ipaddress.ip_address(address)
        except ValueError:
            continue
        if parsed in HOST_NETWORK:
            used.add((int(parsed) - int(HOST_NETWORK.network_address)) // 4)
    return used


def free_indexes(count: int) -> list[int]:
    """Host numbers whose /30 no other lab (or test) on this machine is using."""
    used = _indexes_in_use()
    free = [i for i in range(MAX_HOSTS) if i not in used][:count]
    if len(free) < count:
        raise LabError(f"only {len(free)} lab host addresses are free in {HOST_NETWORK}")
    return free


@contextmanager
def _machine_lock() -> Iterator[None]:
    # Labs of several users or test runs share the root namespace: allocate and plumb one at a time.
    with open(LOCK_FILE, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def start_hosts(prefix: str, specs: Sequence[HostSpec], folder: Path, keys: SshKeys) -> list[NetnsHost]:
    """Create namespaces and start one sshd per host; returns when every sshd accepts connections.

    On failure the sshd processes already started are stopped here (the caller never learns their
    PIDs); the namespaces go with the caller's `teardown(prefix, ...)`.
    """
    with _machine_lock():
        indexes = free_indexes(len(specs))
        plumb(prefix, indexes)
    hosts: list[NetnsHost] = []
    try:
        for index, spec in zip(indexes, specs, strict=True):
            hosts.append(_start_sshd(prefix, index, spec, folder, keys))
        # sshd start-up takes longer when a thousand of them share two cores
        _wait_listening(hosts, folder, timeout=30.0 + 0.06 * len(hosts))
    except BaseException:
        processes.stop([h.pid for h in hosts])
        raise
    return hosts


def _start_sshd(prefix: str, index: int, spec: HostSpec, folder: Path, keys: SshKeys) -> NetnsHost:
    ns, outside, _ = _names(prefix, index)
    root, peer = addresses(index)
    host_dir = child(folder, spec.name)
    host_dir.mkdir(parents=True, exist_ok=True)
    config = _sshd_config(host_dir, keys, peer)
    pid = processes.start(_sshd_argv(ns, spec, config), host_dir / "sshd.log")
    return NetnsHost(spec.name, ns, peer, root, outside, pid)


def _listening(host: NetnsHost) -> bool:
    try:
        with socket.create_connection((host.address, host.port), timeout=0.2):
            return True
    except OSError:
        return False


def _wait_listening(hosts: Sequence[NetnsHost], folder: Path, timeout: float = 30.0) -> None:
    pending: list[NetnsHost] = list(hosts)

    def ready() -> bool:
        pending[:] = [h for h in pending if not _listening(h)]
        return not pending

    if not processes.wait_for(ready, timeout, 0.1):
        first = pending[0]
        log = folder / first.name / "sshd.log"
        tail = log.read_text().strip().splitlines()[-1:] if log.exists() else []
        raise LabError(f"sshd of {first.name} ({first.address}) did not start: {' '.join(tail) or 'no output'}")


def namespaces(prefix: str) -> list[str]:
    """The lab's namespaces that exist now."""
    listed = processes.run_tool(["ip", "netns", "list"])
    return [
        line.split()[0] for line in listed.splitlines() if line.split() and line.split()[0].startswith(prefix + "-")
    ]


def links(prefix: str) -> list[str]:
    """The lab's links left in the root namespace."""
    listed = processes.run_tool(["ip", "-o", "link", "show"])
    names = [line.split(":")[1].strip().split("@")[0] for line in listed.splitlines() if ":" in line]
    return [n for n in names if n.startswith(prefix) and n[len(prefix) :][:1] in ("h", "n")]


def teardown(prefix: str, pids: Sequence[int]) -> None:
    """Stop the hosts' sshd processes and delete every namespace and link carrying the prefix."""
    processes.stop(list(pids))
    found = namespaces(prefix)
    if found:
        processes.run_tool(["ip", "-batch", "-"], stdin="".join(f"netns del {ns}\n" for ns in found))
    # Deleting a namespace takes its veth pair with it, but the kernel does so asynchronously.
    processes.wait_for(lambda: not links(prefix), timeout=5.0, interval=0.1)
    leftover = links(prefix)
    if leftover:
        processes.run_tool(["ip", "-force", "-batch", "-"], stdin="".join(f"link del {name}\n" for name in leftover))
