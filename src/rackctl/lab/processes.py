"""Start programs detached from rackctl, and stop exactly those later, from a recorded PID."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from rackctl.errors import RackctlError


class LabError(RackctlError):
    """The lab could not start, find or stop what it manages."""


def start(
    argv: Sequence[str],
    log: Path,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    ignore_sigpipe: bool = False,
) -> int:
    """Start a program in its own session (it outlives rackctl); its output goes to `log`.

    `ignore_sigpipe` hands the child Python's ignored SIGPIPE instead of the default action.
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as sink:
        try:
            proc = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env=env,
                cwd=cwd,
                close_fds=True,
                restore_signals=not ignore_sigpipe,
            )
        except OSError as exc:
            raise LabError(f"cannot start {argv[0]}: {exc.strerror}") from None
    return proc.pid


def last_words(log: Path) -> str:
    """The last non-empty line a program wrote to its log: what a failed start says about why, kept in the
    error because a lab that fails to start removes its folder, logs included."""
    try:
        lines = [line.strip() for line in log.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return "no log"
    return lines[-1][:200] if lines else "nothing logged"


def run_tool(argv: Sequence[str], stdin: str | None = None, timeout: float = 120) -> str:
    """Run a helper program to completion; any failure becomes one LabError naming the program."""
    try:
        done = subprocess.run(list(argv), input=stdin, capture_output=True, text=True, check=False, timeout=timeout)
    except FileNotFoundError:
        raise LabError(f"{argv[0]} not found: install it (scripts/install-deps lists what the lab needs)") from None
    except subprocess.TimeoutExpired:
        raise LabError(f"{argv[0]} did not finish in {timeout:g} s") from None
    if done.returncode != 0:
        last = done.stderr.strip().splitlines()[-1:] or [f"exit code {done.returncode}"]
        raise LabError(f"{' '.join(argv[:3])}: {last[0]}")
    return done.stdout


def alive(pid: int) -> bool:
    """Whether a process runs (a zombie child counts as gone)."""
    try:
        waited, _ = os.waitpid(pid, os.WNOHANG)
        if waited == pid:
            return False
    except ChildProcessError:
        pass  # not our child: fall through to the signal probe
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return _state(pid) not in ("Z", "X")


def stopped(pid: int) -> bool:
    """Whether the process is stopped by a signal (the lab's hung BMC)."""
    return _state(pid) == "T"


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return "X"


def stop(pids: Sequence[int], grace: float = 3.0) -> list[int]:
    """SIGTERM each process group, wait up to `grace` seconds, SIGKILL what is left; returns survivors."""
    for pid in pids:
        _signal_group(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    remaining = [p for p in pids if alive(p)]
    while remaining and time.monotonic() < deadline:
        time.sleep(0.05)
        remaining = [p for p in remaining if alive(p)]
    for pid in remaining:
        _signal_group(pid, signal.SIGKILL)
    time.sleep(0.05 if remaining else 0)
    return [p for p in remaining if alive(p)]


def _signal_group(pid: int, sig: signal.Signals) -> None:
    # A paused process (a "dead" BMC) must be able to act on SIGTERM.
    for target in (lambda s: os.killpg(pid, s), lambda s: os.kill(pid, s)):
        try:
            target(signal.SIGCONT)
            target(sig)
            return
        except ProcessLookupError:
            continue
        except PermissionError:
            return


def wait_for(check: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    """Poll `check()` until it is true or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(interval)
    return check()
