"""Files an admin names (secret files, the bindings file), read so that no file can hang,
flood or fool the server: regular files only (a FIFO or /dev/zero would hang or flood it),
size-capped, in a thread whose wait is bounded (a hung network filesystem), and only when no
other user could have changed them (as ssh's StrictModes).
"""

from __future__ import annotations

import concurrent.futures
import functools
import os
import pwd
import queue
import stat
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

#: Seconds a file may take to answer (open, stat, read) before it is reported as not answering:
#: a hung network filesystem must not hang the server. Read at each call: tests lower it.
READ_TIMEOUT = 2.0
#: Seconds an idle reading thread waits for another read before it ends (nothing of ours
#: lingers after the server stops).
IDLE_THREAD_EXIT = 1.0
#: O_NONBLOCK: opening a FIFO does not wait for a writer; O_NOCTTY: a terminal is not adopted.
_OPEN_FLAGS = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY
_FILE_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)
_Result = TypeVar("_Result")
_Task = tuple[concurrent.futures.Future[Any], Callable[[], Any]]


class FileRefused(ValueError):
    """A file the server will not use (a secret file, the bindings file): not a regular file,
    changeable by another user, too large, unreadable or not answering. The message says why and
    what to do; the caller names the file."""


class FileNotAnswering(FileRefused):
    """A file whose access did not return in time (a hung network filesystem): unlike the other
    refusals, trying again later may succeed."""


def read_trusted_file(path: str, limit: int) -> bytes:
    """The content of a file an admin controls, read so that no file can hang, flood or fool the
    server: FileRefused unless it is a regular file no other user can change (trust_problem), of
    at most `limit` bytes, that answers within READ_TIMEOUT. Symlinks are followed (Kubernetes
    mounts secrets as symlinks)."""
    return bounded_call(functools.partial(_read_trusted_now, limit=limit), path)


def bounded_call(function: Callable[[str], _Result], path: str) -> _Result:
    """`function(path)` in a file thread, waited for at most READ_TIMEOUT seconds: a file on a
    hung network filesystem costs one stuck thread and one timeout, not a hung server, and later
    calls for that path fail at once until the stuck one returns."""
    with _unanswered_lock:
        if path in _unanswered:
            raise FileNotAnswering(
                "has not answered an earlier read yet (a hung network filesystem?): "
                "check the filesystem it is on"
            )
    future = _FILE_THREADS.submit(function, path)
    try:
        return future.result(timeout=READ_TIMEOUT)
    except concurrent.futures.TimeoutError:
        if future.done():  # it returned just now, or raised a TimeoutError of its own
            return future.result()
        _until_answered(path, future)
        raise FileNotAnswering(
            f"did not answer within {READ_TIMEOUT:g} s (a hung network filesystem?): "
            "check the filesystem it is on"
        ) from None


class _DaemonThreads:
    """A pool of daemon threads: one stuck on a hung filesystem cannot keep the server from
    exiting (a ThreadPoolExecutor's threads are joined at exit), and a task never waits behind a
    stuck one (a new thread starts when none is idle). An idle thread ends after
    IDLE_THREAD_EXIT seconds without work."""

    def __init__(self) -> None:
        self._tasks: queue.SimpleQueue[_Task] = queue.SimpleQueue()
        self._idle = 0  # threads about to wait for a task, less the tasks waiting for one
        self._lock = threading.Lock()

    def submit(
        self, function: Callable[[str], _Result], path: str
    ) -> concurrent.futures.Future[_Result]:
        future: concurrent.futures.Future[_Result] = concurrent.futures.Future()
        with self._lock:
            if self._idle:
                self._idle -= 1
            else:
                threading.Thread(target=self._work, name="mlflow-groups-file", daemon=True).start()
        self._tasks.put((future, functools.partial(function, path)))
        return future

    def _work(self) -> None:
        while True:
            try:
                future, task = self._tasks.get(timeout=IDLE_THREAD_EXIT)
            except queue.Empty:
                with self._lock:
                    if self._idle:  # no task was promised to an idle thread: this one ends
                        self._idle -= 1
                        return
                continue  # a task was promised to the idle threads: take it
            try:
                future.set_result(task())
            except Exception as error:  # handed to the waiting caller
                future.set_exception(error)
            with self._lock:
                self._idle += 1


_FILE_THREADS = _DaemonThreads()
#: Paths whose call timed out and is still stuck, with that call.
_unanswered: dict[str, concurrent.futures.Future[Any]] = {}
_unanswered_lock = threading.Lock()


def _until_answered(path: str, future: concurrent.futures.Future[Any]) -> None:
    with _unanswered_lock:
        _unanswered[path] = future
    future.add_done_callback(functools.partial(_answered, path))


def _answered(path: str, future: concurrent.futures.Future[Any]) -> None:
    with _unanswered_lock:
        if _unanswered.get(path) is future:
            del _unanswered[path]


def _read_trusted_now(path: str, limit: int) -> bytes:
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as error:
        raise FileRefused(_open_problem(error)) from None
    try:
        info = os.fstat(fd)  # of what was opened: no race with a file swapped after a check
        problem = _kind_problem(info) or trust_problem(path, info)
        problem = problem or _size_problem(info.st_size, limit)
        if problem:
            raise FileRefused(problem)
        data = _read_at_most(fd, limit + 1)  # the size may have grown since fstat
    except OSError as error:
        raise FileRefused(f"cannot be read ({error.strerror}): check the file") from None
    finally:
        os.close(fd)
    problem = _size_problem(len(data), limit)
    if problem:
        raise FileRefused(problem)
    return data


def _open_problem(error: OSError) -> str:
    if isinstance(error, FileNotFoundError):
        return "no such file: check the path (and that its volume is mounted)"
    if isinstance(error, PermissionError):
        return f"the server's user ({_user_name(os.geteuid())}) may not read it: let it read it"
    return f"cannot be opened ({error.strerror}): name a regular file"


def _kind_problem(info: os.stat_result) -> str | None:
    if stat.S_ISREG(info.st_mode):
        return None
    kind = next((name for test, name in _FILE_KINDS if test(info.st_mode)), "a special file")
    return f"is {kind}, not a regular file: name a regular file"


def _size_problem(size: int, limit: int) -> str | None:
    if size <= limit:
        return None
    shown = f"{limit // 2**20} MiB" if limit >= 2**20 else f"{limit // 2**10} KiB"
    return f"is larger than {shown}: is it the right file?"


def _read_at_most(fd: int, count: int) -> bytes:
    chunks: list[bytes] = []
    while count > 0 and (chunk := os.read(fd, count)):
        chunks.append(chunk)
        count -= len(chunk)
    return b"".join(chunks)


def trust_problem(path: str, info: os.stat_result) -> str | None:
    """Why another user could change what the server reads at `path` (whose stat is `info`), with
    the fix; None when nobody can. As ssh's StrictModes: the file and every directory above it
    (symlinks resolved) belong to the server's user or root and are not writable by group or
    others, except a directory with the sticky bit (like /tmp: nobody replaces others' files)."""
    real = Path(os.path.realpath(path))
    problem = _writers_problem(real, info, directory=False)
    for parent in real.parents:
        if problem:
            break
        try:
            parent_info = os.stat(parent)
        except OSError as error:
            return f"its directory {parent} cannot be checked ({error.strerror})"
        problem = _writers_problem(parent, parent_info, directory=True)
    return problem


def _writers_problem(path: Path, info: os.stat_result, directory: bool) -> str | None:
    what = f"its directory {path}" if directory else str(path)
    if info.st_uid not in (0, os.geteuid()):
        server_user = _user_name(os.geteuid())
        allowed = "root" if os.geteuid() == 0 else f"the server's user ({server_user}) or root"
        return (
            f"{what} belongs to {_user_name(info.st_uid)}, not to {allowed}, so another user "
            f"could change what the server reads: run `chown {server_user} {path}`"
        )
    sticky = directory and info.st_mode & stat.S_ISVTX
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH) and not sticky:
        return (
            f"{what} is writable by its group or others ({stat.filemode(info.st_mode)}), so "
            f"another user could change what the server reads: run `chmod go-w {path}`"
        )
    return None


def _user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"
