"""Where a version's artifacts are read from: the fastest way for each kind of store.

- a directory the server can read (`file://`, a plain absolute path, or a managed server's
  artifact directory): copied at filesystem speed, in 16 MiB `copy_file_range` steps;
- `mlflow-artifacts:` (a proxied tracking server) and its `http(s)://` form: MLflow's artifact
  REST API, streamed over kept-alive connections (see http_pool.py);
- `s3://`: boto3 with the binding's keys and MLFLOW_S3_ENDPOINT_URL, byte progress by callback;
- anything else (gs://, wasbs://, hdfs://, ...): MLflow's own artifact repository, file by file.

Every source lists `Artifact(path, size)` with paths relative to the model directory. Nothing a
registered version says can steer the copy out of its store:

- local paths are opened one component at a time from `/`, each relative to its parent's file
  descriptor and without following a symbolic link (the root's components included); files are
  read from the descriptor that was checked (fstat) to be a regular file, so swapping a file or a
  directory for a link between the listing and the copy gains nothing;
- no file is written past the size its store announced;
- the artifact API is read only on the tracking server, or on hosts the admin allowed
  (`download_hosts`), and only the tracking server gets the group's credentials.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import stat
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePath, PurePosixPath
from typing import Protocol
from urllib.parse import quote, unquote, urlsplit

from .errors import CopyError, Stopped
from .http_pool import HttpPool, origin_of, oversized
from .layout import safe_relative

ARTIFACTS_API = "/api/2.0/mlflow-artifacts/artifacts"
LOCAL_CHUNK = 16 * 1024 * 1024
#: copy_file_range is not possible between these files (e.g. across some mounts): copy by hand
_NO_COPY_FILE_RANGE = (errno.EXDEV, errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.EBADF)
_NO_FOLLOW = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC
_DIRECTORY = _NO_FOLLOW | os.O_DIRECTORY
#: O_NONBLOCK: opening a FIFO does not wait for a writer (fstat then refuses it); O_NOCTTY: a
#: terminal does not become the worker's
_FILE = _NO_FOLLOW | os.O_NONBLOCK | os.O_NOCTTY
_KINDS = {
    stat.S_IFREG: "a regular file",
    stat.S_IFDIR: "a directory",
    stat.S_IFIFO: "a FIFO",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a device",
    stat.S_IFBLK: "a device",
}
_HOST = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(:[0-9]{1,5})?")

OnBytes = Callable[[int], None]
ShouldStop = Callable[[], bool]
AllowedHosts = frozenset[tuple[str, int | None]]  # (host, port); port None: any port


@dataclass(frozen=True)
class Artifact:
    path: str  # relative, "/"-separated
    size: int | None


class ArtifactSource(Protocol):
    description: str

    def list(self) -> list[Artifact]: ...

    def fetch(
        self, artifact: Artifact, destination: Path, on_bytes: OnBytes, stop: ShouldStop
    ) -> None: ...


@dataclass(frozen=True)
class Store:
    """What a source may use: the group's environment (artifact-store keys), its tracking
    server's pool, that server's artifact directory when this server can read it (a managed
    group: then no HTTP at all), and the other hosts the admin allows downloads from."""

    env: Mapping[str, str]
    tracking: HttpPool
    local_artifacts: Path | None = None
    download_hosts: AllowedHosts = field(default_factory=frozenset)


def download_hosts(entries: object) -> AllowedHosts:
    """The spec's `download_hosts`: "host" (any port) or "host:port" strings."""
    if entries is None:
        return frozenset()
    if not isinstance(entries, list):
        raise CopyError("bad_request", 'download_hosts is not a list of "host[:port]" strings')
    allowed = set()
    for entry in entries:
        try:
            if not isinstance(entry, str) or not _HOST.fullmatch(entry):
                raise ValueError(entry)
            parts = urlsplit(f"//{entry}")
            allowed.add(((parts.hostname or "").lower(), parts.port))
        except ValueError:
            raise CopyError(
                "bad_request", f'download_hosts holds {entry!r}, which is not "host" or "host:port"'
            ) from None
    return frozenset(allowed)


# -- a directory this server reads -------------------------------------------------------------


class LocalSource:
    """A directory this server reads, copied at filesystem speed, through no symbolic link."""

    def __init__(self, root: Path) -> None:
        if not root.is_absolute() or ".." in root.parts:
            raise CopyError(
                "unsafe_path",
                f"the artifact location {str(root)!r} is not an absolute path without '..': "
                "register the model from its absolute, real path",
            )
        self.root = root
        self.description = f"the directory {root}"

    def list(self) -> list[Artifact]:
        directory = self._open()
        try:
            return list(self._walk(directory, PurePosixPath()))
        finally:
            os.close(directory)

    def fetch(
        self, artifact: Artifact, destination: Path, on_bytes: OnBytes, stop: ShouldStop
    ) -> None:
        *directories, name = PurePosixPath(artifact.path).parts
        shown = self.root / artifact.path
        parent = self._open(directories)
        try:
            source = _open_at(parent, name, _FILE, shown)
        finally:
            os.close(parent)
        try:
            info = os.fstat(source)  # what was opened, not what the path names now
            if not stat.S_ISREG(info.st_mode):
                raise _wrong_kind(shown, info.st_mode, "a regular file")
            limit = info.st_size if artifact.size is None else artifact.size
            if info.st_size > limit:
                raise oversized(artifact.path, limit)
            with destination.open("wb") as sink:
                _copy_at_most(source, sink.fileno(), limit, on_bytes, stop)
        finally:
            os.close(source)

    def _open(self, names: Sequence[str] = ()) -> int:
        """The descriptor of the root's subdirectory `names`, every component from / opened
        without following a link: a run's artifacts/ or model/ that is a link is not followed."""
        start = os.open("/", _DIRECTORY)
        return _descend(start, Path("/"), [*self.root.parts[1:], *names])

    def _walk(self, directory: int, relative: PurePosixPath) -> Iterator[Artifact]:
        """The regular files under `directory` (a descriptor: the walk follows no link)."""
        with os.scandir(directory) as scan:
            entries = [(entry.name, entry.stat(follow_symlinks=False)) for entry in scan]
        for name, info in entries:
            path = relative / name
            if stat.S_ISREG(info.st_mode):
                yield Artifact(path.as_posix(), info.st_size)
            elif stat.S_ISDIR(info.st_mode):
                child = _open_at(directory, name, _DIRECTORY, self.root / path)
                try:
                    yield from self._walk(child, path)
                finally:
                    os.close(child)
            else:
                raise _wrong_kind(self.root / path, info.st_mode, "a regular file")


def _descend(directory: int, base: Path, names: Sequence[str]) -> int:
    """Open `names` one inside the other from `directory` (whose descriptor this takes over),
    following no link; the descriptor of the last one."""
    try:
        for depth, name in enumerate(names, 1):
            child = _open_at(directory, name, _DIRECTORY, base.joinpath(*names[:depth]))
            os.close(directory)
            directory = child
    except BaseException:
        os.close(directory)
        raise
    return directory


def _open_at(parent: int, name: str, flags: int, shown: PurePath) -> int:
    try:
        return os.open(name, flags, dir_fd=parent)
    except OSError as error:
        raise _refusal(error, parent, name, shown) from None


def _refusal(error: OSError, parent: int, name: str, shown: PurePath) -> CopyError:
    """Why `name` (in `parent`; `shown` is its whole path) could not be opened, in words."""
    if error.errno in (errno.ELOOP, errno.ENOTDIR):  # a link, or not a directory
        try:
            mode = os.stat(name, dir_fd=parent, follow_symlinks=False).st_mode
        except OSError:
            mode = stat.S_IFLNK if error.errno == errno.ELOOP else 0
        wanted = "a directory" if error.errno == errno.ENOTDIR else "a regular file"
        return _wrong_kind(shown, mode, wanted)
    if error.errno == errno.ENOENT:
        return CopyError(
            "not_found",
            f"{shown} does not exist: the version's artifacts were moved or deleted, or are on "
            "another machine",
        )
    if error.errno in (errno.EACCES, errno.EPERM):
        return CopyError(
            "forbidden",
            f"this server may not read {shown}: ask your admin to let it read the artifact store",
        )
    return CopyError("storage", f"reading {shown} failed: {error.strerror or error}")


def _wrong_kind(shown: PurePath, mode: int, wanted: str) -> CopyError:
    if stat.S_ISLNK(mode):
        return CopyError(
            "unsafe_path",
            f"{shown} is a symbolic link: the copy follows no links, since one could point "
            "anywhere on the server. Register the model from its real path, with no link on "
            "the way to it nor inside it (copy the linked files in)",
        )
    kind = _KINDS.get(stat.S_IFMT(mode), "of an unknown kind")
    return CopyError(
        "unsafe_path",
        f"{shown} is {kind}, not {wanted}: the copy takes only regular files and directories",
    )


def _copy_at_most(
    source: int, sink: int, limit: int, on_bytes: OnBytes, should_stop: ShouldStop
) -> None:
    """Copy up to `limit` bytes (the size the listing announced), chunk by chunk."""
    remaining = limit
    while remaining:
        if should_stop():
            raise Stopped()
        copied = _copy_chunk(source, sink, min(LOCAL_CHUNK, remaining))
        if copied == 0:
            return  # shorter than announced: the verification says so
        remaining -= copied
        on_bytes(copied)


def _copy_chunk(source: int, sink: int, count: int) -> int:
    """Copy up to `count` bytes in the kernel (no round trip through user space)."""
    try:
        return os.copy_file_range(source, sink, count)
    except OSError as error:
        if error.errno not in _NO_COPY_FILE_RANGE:
            raise  # a full disk, an I/O error: not a reason to try another way
        data = memoryview(os.read(source, count))
        written = 0
        while written < len(data):  # os.write may write less than it was given
            written += os.write(sink, data[written:])
        return len(data)


# -- MLflow's artifact REST API --------------------------------------------------------------


class HttpArtifactSource:
    """MLflow's artifact REST API: list with `?path=`, download `.../artifacts/<path>`."""

    def __init__(self, pool: HttpPool, root: str) -> None:
        self.pool = pool
        self.root = root.strip("/")
        where = f"{ARTIFACTS_API}/{self.root}"
        self.description = f"{where} on {pool.where}" if pool.unix_socket else pool.where + where

    def list(self) -> list[Artifact]:
        found: list[Artifact] = []
        pending = [self.root]
        while pending:
            directory = pending.pop()
            listing = self.pool.get_json(ARTIFACTS_API, {"path": directory})
            entries = listing.get("files", [])
            if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
                raise self.pool.not_mlflow(ARTIFACTS_API, "a listing that is not a list of files")
            for entry in entries:
                full = _join(directory, child_name(directory, str(entry.get("path", ""))))
                if entry.get("is_dir"):
                    pending.append(full)
                else:
                    relative = full[len(self.root) :].lstrip("/")
                    found.append(Artifact(relative, self._size(entry.get("file_size"))))
        return found

    def _size(self, value: object) -> int | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).isdigit():
            raise self.pool.not_mlflow(
                ARTIFACTS_API, f"a file size that is not a number ({value!r})"
            )
        return int(value)

    def fetch(
        self, artifact: Artifact, destination: Path, on_bytes: OnBytes, stop: ShouldStop
    ) -> None:
        remote = _join(self.root, artifact.path)
        self.pool.download(
            f"{ARTIFACTS_API}/{quote(remote)}", destination, artifact.size, on_bytes, stop,
            artifact.path,
        )  # fmt: skip


def child_name(directory: str, entry: str) -> str:
    """The name of an entry in the listing of `directory`. MLflow's server gives bare names;
    other stores give paths relative to the run's artifact root (`model/MLmodel`) or to their
    own root: any of these is accepted when what precedes the name ends `directory`'s path, so
    a listing cannot place a file in another directory."""
    *parent, name = safe_relative(entry).parts
    listed = PurePosixPath(directory).parts
    if parent and (len(parent) > len(listed) or list(listed[-len(parent) :]) != parent):
        raise CopyError(
            "mlflow_error",
            f"the store's listing of {directory!r} names {entry!r}, which is not in it: the "
            "store does not answer as MLflow's artifact stores do",
        )
    return name


def _join(directory: str, name: str) -> str:
    return f"{directory}/{name}" if directory and name else directory or name


# -- S3 --------------------------------------------------------------------------------------


class S3Source:
    def __init__(self, uri: str, env: Mapping[str, str]) -> None:
        try:
            import boto3
            from botocore.config import Config
        except ImportError:
            raise CopyError(
                "not_configured", "the artifacts are on S3 but boto3 is not installed on the server"
            ) from None
        parts = urlsplit(uri)
        self.bucket, self.prefix = parts.netloc, parts.path.strip("/")
        self.description = uri
        self.client = boto3.client(
            "s3",
            endpoint_url=env.get("MLFLOW_S3_ENDPOINT_URL") or None,
            config=Config(max_pool_connections=32),
        )

    def list(self) -> list[Artifact]:
        from botocore.exceptions import BotoCoreError, ClientError

        found = []
        try:
            for page in self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=f"{self.prefix}/" if self.prefix else ""
            ):
                for item in page.get("Contents", []):
                    relative = item["Key"][len(self.prefix) :].lstrip("/")
                    if relative and not relative.endswith("/"):  # "dir/": a folder marker
                        found.append(Artifact(relative, int(item["Size"])))
        except ClientError as error:
            raise CopyError(
                _s3_code(error), f"S3 refused to list {self.description}: {error}"
            ) from None
        except BotoCoreError as error:
            raise CopyError(
                "unreachable", f"S3 is not reachable for {self.description}: {error}"
            ) from None
        return found

    def fetch(
        self, artifact: Artifact, destination: Path, on_bytes: OnBytes, stop: ShouldStop
    ) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        received = 0
        lock = threading.Lock()  # boto3 calls back from its transfer threads

        def progress(count: int) -> None:
            """Called as each chunk is read, before it is written: raising here abandons the
            transfer (stopped, or more bytes than the listing's Size) and boto3 removes its
            temporary file."""
            nonlocal received
            if stop():
                raise Stopped()
            with lock:
                received += count  # negative when boto3 retries a part
                over = artifact.size is not None and received > artifact.size
            if over:
                raise oversized(artifact.path, artifact.size or 0)
            on_bytes(count)

        key = _join(self.prefix, artifact.path)
        try:
            self.client.download_file(self.bucket, key, str(destination), Callback=progress)
        except ClientError as error:
            raise CopyError(_s3_code(error), f"S3 refused {key}: {error}") from None
        except BotoCoreError as error:
            raise CopyError("unreachable", f"S3 failed for {key}: {error}") from None


def _s3_code(error: Exception) -> str:
    status = getattr(error, "response", {}).get("ResponseMetadata", {}).get("HTTPStatusCode")
    return {401: "unauthorized", 403: "forbidden", 404: "not_found"}.get(status, "mlflow_error")


# -- anything else -----------------------------------------------------------------------------


class MlflowRepositorySource:
    """Any other store, through MLflow's own artifact repositories (progress per file)."""

    def __init__(self, uri: str) -> None:
        from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository

        self.repository = get_artifact_repository(uri)
        self.description = uri
        self.base = urlsplit(uri).path.strip("/")  # where listed paths may be relative to

    def list(self) -> list[Artifact]:
        found, pending = [], [""]
        while pending:
            directory = pending.pop()
            for info in self.repository.list_artifacts(directory or None):
                relative = _join(directory, child_name(_join(self.base, directory), info.path))
                if info.is_dir:
                    pending.append(relative)
                else:
                    found.append(Artifact(relative, info.file_size))
        return found

    def fetch(
        self, artifact: Artifact, destination: Path, on_bytes: OnBytes, stop: ShouldStop
    ) -> None:
        if stop():
            raise Stopped()
        scratch = destination.parent / f".{destination.name}.download"
        scratch.mkdir(exist_ok=True)
        try:
            downloaded = self.repository.download_artifacts(artifact.path, dst_path=str(scratch))
            info = os.lstat(downloaded)
            if not stat.S_ISREG(info.st_mode):
                raise _wrong_kind(PurePosixPath(artifact.path), info.st_mode, "a regular file")
            if artifact.size is not None and info.st_size > artifact.size:
                raise oversized(artifact.path, artifact.size)  # and never kept
            os.replace(downloaded, destination)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        on_bytes(info.st_size)


# -- which source ------------------------------------------------------------------------------


def source_for(uri: str, store: Store) -> ArtifactSource:
    """The source of the artifacts at `uri` (a version's download URI)."""
    parts = urlsplit(uri)
    scheme = parts.scheme.lower()
    if not scheme:  # a plain path: the same rules as file://
        return LocalSource(Path(uri))
    if scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise CopyError(
                "unsafe_source",
                f"{uri} is a file on another machine ({parts.netloc}): register the model from "
                "a path or a store this server can reach",
            )
        return LocalSource(Path(unquote(parts.path)))
    if scheme == "mlflow-artifacts":
        path = unquote(parts.path).lstrip("/")
        if parts.netloc:  # MLflow reads it with the tracking URI's scheme and path
            scheme = store.tracking.origin[0] or "http"
            base = f"{scheme}://{parts.netloc}{store.tracking.prefix}"
            return HttpArtifactSource(_pool_for(base, store), path)
        if store.local_artifacts is not None:
            return LocalSource(store.local_artifacts / path)
        return HttpArtifactSource(store.tracking, path)
    if scheme in ("http", "https"):
        prefix, api, path = parts.path.partition(ARTIFACTS_API)
        if not api:
            raise CopyError(
                "mlflow_error",
                f"the artifacts are at {_host(uri)}{parts.path}, which is not MLflow's artifact "
                f"API ({ARTIFACTS_API}): the copy cannot read them",
            )
        pool = _pool_for(f"{scheme}://{parts.netloc}{prefix}", store)
        return HttpArtifactSource(pool, unquote(path))
    if scheme in ("s3", "s3a"):
        return S3Source(uri, store.env)
    return MlflowRepositorySource(uri)


def _pool_for(base_url: str, store: Store) -> HttpPool:
    """The pool for MLflow's artifact API at `base_url`: on the tracking server, or on another
    host the admin allowed (which gets none of the group's credentials). Any other host is
    refused: a registered version cannot send the copy, or the credentials, elsewhere."""
    try:
        _, host, port = origin_of(urlsplit(base_url))
        if store.tracking.serves(base_url) or not {(host, None), (host, port)}.isdisjoint(
            store.download_hosts
        ):
            return store.tracking.at(base_url)
    except ValueError:  # a port that is not a number
        pass
    shown = _host(base_url)
    raise CopyError(
        "unsafe_source",
        f"the version's artifacts are on {shown}, not on the tracking server: the copy downloads "
        "only from the tracking server, so that a registered version cannot send it (nor the "
        f"group's credentials) elsewhere. If {shown} is a trusted artifact server, ask your "
        "admin to add it to the binding's download hosts; else register the model with its "
        "artifacts on the tracking server",
    )


def _host(url: str) -> str:
    """The host (and port) of a URL, without any user or password."""
    return urlsplit(url).netloc.rpartition("@")[2]
