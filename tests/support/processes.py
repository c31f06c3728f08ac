"""The tests' child processes: servers run in a session of their own, waited for until they
answer and stopped with everything they started (`ChildProcess`); and what the operating system
says about a process: whether it ended, its environment at start, its sockets."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from jupyter_mlflow_groups.processes import pid_alive


def free_port() -> int:
    """A TCP port on loopback that nothing listens on (yet)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _default_sigint() -> None:
    """Ctrl-C as a service manager would send it: a test run started in the background by a
    shell without job control inherits SIGINT ignored, which Python would keep."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _answers(url: str) -> Callable[[], bool]:
    """A readiness check: a GET of `url` succeeds (urllib raises on an HTTP error)."""

    def check() -> bool:
        with urllib.request.urlopen(url, timeout=2):
            return True

    return check


class ChildProcess:
    """A program run by the tests in a session (so a process group) of its own, with no terminal
    (stdin from /dev/null, as under a service manager) and its output appended to `log_path`.

    `spawn` starts it, `wait_until_ready` polls until it answers, `stop` ends it and whatever it
    started in its group. The tests' servers (Jupyter, JupyterHub, MLflow, moto, PostgreSQL)
    are subclasses: they add the command, their environment, their readiness check and a client.
    """

    #: What error messages call the program.
    program = "child process"
    #: Seconds `stop` leaves between SIGTERM and SIGKILL.
    grace: float = 30
    #: Whether `stop`'s SIGTERM goes to the whole group; False for a server that stops its own
    #: children in order (SIGKILL, after the grace period, always goes to the whole group).
    terminate_group = True

    def __init__(self, log_path: Path) -> None:
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def spawn(
        self,
        command: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        user: str | None = None,
        default_sigint: bool = False,
    ) -> None:
        """Start `command` (`env`: its whole environment, by default this process's; `user`: an
        account to run it as). `default_sigint`: SIGINT's default action in the child, however
        this test run was started (see `_default_sigint`)."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                list(command),
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                user=user,
                preexec_fn=_default_sigint if default_sigint else None,
            )

    def wait_until_ready(
        self, ready: str | Callable[[], object], timeout: float, interval: float = 0.2
    ) -> None:
        """Poll until the program answers: `ready` is a URL that a GET must succeed at, or a
        check that returns something true (an exception counts as "not yet"). Raises
        RuntimeError with the end of the log if the program exits first or `timeout` seconds
        pass (then with the check's last error too)."""
        assert self.process is not None, f"{self.program} was not started"
        check = _answers(ready) if isinstance(ready, str) else ready
        deadline = time.monotonic() + timeout
        last_error: Exception | None = None
        while True:
            if (code := self.process.poll()) is not None:
                raise RuntimeError(f"{self.program} exited with {code}:\n{self.log_tail()}")
            try:
                if check():
                    return
                last_error = None
            except Exception as error:
                last_error = error
            if time.monotonic() >= deadline:
                why = f" (last: {last_error!r})" if last_error else ""
                raise RuntimeError(
                    f"{self.program} did not answer in {timeout} s{why}:\n{self.log_tail()}"
                )
            time.sleep(interval)

    def stop(self) -> None:
        """SIGTERM, then after `grace` seconds SIGKILL to the group; nothing if it has ended."""
        if self.process is None or self.process.poll() is not None:
            return
        pid = self.process.pid
        with contextlib.suppress(ProcessLookupError):
            if self.terminate_group:
                os.killpg(pid, signal.SIGTERM)
            else:
                self.process.terminate()
        try:
            self.process.wait(timeout=self.grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
            self.process.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_tail(self, characters: int = 3000) -> str:
        return self.log()[-characters:]


def stopped(pid: int, timeout: float = 30) -> bool:
    """Whether a process ended within `timeout` (gone, or a zombie nobody reaped)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return True
        time.sleep(0.2)
    return False


def environ(pid: int) -> dict[str, str]:
    """The environment `pid` was started with (/proc/<pid>/environ)."""
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    pairs = (entry.split(b"=", 1) for entry in raw.split(b"\0") if b"=" in entry)
    return {name.decode(errors="replace"): value.decode(errors="replace") for name, value in pairs}


def process_group(pgid: int) -> list[int]:
    """The processes of a process group (a server and the workers it forked)."""
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getpgid(int(entry.name)) == pgid:
                    members.append(int(entry.name))
            except OSError:
                continue
    return members


def listening_tcp_ports(pid: int) -> set[int]:
    """TCP ports a process group listens on (from /proc: the sockets its processes hold)."""
    inodes = set()
    for member in process_group(pid):
        try:
            for fd in Path(f"/proc/{member}/fd").iterdir():
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
        except OSError:
            continue
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports
