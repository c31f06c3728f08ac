"""Where a version's artifacts are read from: the fastest way for each kind of store.

- a directory the server can read (`file://`, or a managed server's artifact directory):
  copied at filesystem speed, in 16 MiB `copy_file_range` steps (progress within a big file);
- `mlflow-artifacts:` (a proxied tracking server) and its `http(s)://` form: MLflow's artifact
  REST API, streamed over kept-alive connections (see http_pool.py);
- `s3://`: boto3 with the binding's keys and MLFLOW_S3_ENDPOINT_URL, byte progress by callback;
- anything else (gs://, wasbs://, hdfs://, ...): MLflow's own artifact repository, file by file.

Every source lists `Artifact(path, size)` with paths relative to the model directory.
"""

from __future__ import annotations

import errno
import os
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import quote, unquote, urlsplit

from ..tracking_auth import TrackingAuth
from .errors import CopyError, Stopped
from .http_pool import HttpPool
from .layout import safe_relative

ARTIFACTS_API = "/api/2.0/mlflow-artifacts/artifacts"
LOCAL_CHUNK = 16 * 1024 * 1024
#: copy_file_range is not possible between these files (e.g. across some mounts): copy by hand
_NO_COPY_FILE_RANGE = (errno.EXDEV, errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.EBADF)

OnBytes = Callable[[int], None]
ShouldStop = Callable[[], bool]


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


class LocalSource:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.description = f"the directory {root}"

    def list(self) -> list[Artifact]:
        if not self.root.is_dir():
            raise CopyError("not_found", f"the artifact directory {self.root} does not exist")
        found = []
        for directory, subdirectories, files in os.walk(self.root):
            for name in files + subdirectories:
                path = Path(directory, name)
                relative = path.relative_to(self.root).as_posix()
                if path.is_symlink():  # it could point anywhere on the server
                    raise CopyError("unsafe_path", f"the artifact {relative!r} is a symbolic link")
                if name in files:
                    found.append(Artifact(relative, path.stat().st_size))
        return found

    def fetch(
        self, artifact: Artifact, destination: Path, on_bytes: OnBytes, stop: ShouldStop
    ) -> None:
        with (self.root / artifact.path).open("rb") as source, destination.open("wb") as sink:
            while True:
                if stop():
                    raise Stopped()
                copied = _copy_chunk(source.fileno(), sink.fileno())
                if copied == 0:
                    return
                on_bytes(copied)


def _copy_chunk(source: int, sink: int) -> int:
    """Copy up to LOCAL_CHUNK bytes in the kernel (no round trip through user space)."""
    try:
        return os.copy_file_range(source, sink, LOCAL_CHUNK)
    except OSError as error:
        if error.errno not in _NO_COPY_FILE_RANGE:
            raise  # a full disk, an I/O error: not a reason to try another way
        data = memoryview(os.read(source, LOCAL_CHUNK))
        written = 0
        while written < len(data):  # os.write may write less than it was given
            written += os.write(sink, data[written:])
        return len(data)


class HttpArtifactSource:
    """MLflow's artifact REST API: list with `?path=`, download `.../artifacts/<path>`."""

    def __init__(self, pool: HttpPool, api: str, root: str) -> None:
        self.pool = pool
        self.api = api
        self.root = root.strip("/")
        self.description = f"{pool.auth.base_url}{api}/{self.root}"

    def list(self) -> list[Artifact]:
        found: list[Artifact] = []
        pending = [self.root]
        while pending:
            directory = pending.pop()
            listing = self.pool.get_json(self.api, {"path": directory})
            entries = listing.get("files", [])
            if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
                raise self.pool.not_mlflow(self.api, "a listing that is not a list of files")
            for entry in entries:
                name = str(entry.get("path", "")).rsplit("/", 1)[-1]
                full = f"{directory}/{name}" if directory else name
                relative = full[len(self.root) :].lstrip("/")
                safe_relative(relative)  # a server cannot send us out of the model directory
                if entry.get("is_dir"):
                    pending.append(full)
                else:
                    found.append(Artifact(relative, self._size(entry.get("file_size"))))
        return found

    def _size(self, value: object) -> int | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).isdigit():
            raise self.pool.not_mlflow(self.api, f"a file size that is not a number ({value!r})")
        return int(value)

    def fetch(
        self, artifact: Artifact, destination: Path, on_bytes: OnBytes, stop: ShouldStop
    ) -> None:
        remote = f"{self.root}/{artifact.path}" if self.root else artifact.path
        self.pool.download(f"{self.api}/{quote(remote)}", destination, on_bytes, stop)


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
                    if relative:
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

        def progress(count: int) -> None:
            if stop():
                raise Stopped()  # raised from boto3's callback: the transfer is abandoned
            on_bytes(count)

        key = f"{self.prefix}/{artifact.path}" if self.prefix else artifact.path
        try:
            self.client.download_file(self.bucket, key, str(destination), Callback=progress)
        except ClientError as error:
            raise CopyError(_s3_code(error), f"S3 refused {key}: {error}") from None
        except BotoCoreError as error:
            raise CopyError("unreachable", f"S3 failed for {key}: {error}") from None


def _s3_code(error: Exception) -> str:
    status = getattr(error, "response", {}).get("ResponseMetadata", {}).get("HTTPStatusCode")
    return {401: "unauthorized", 403: "forbidden", 404: "not_found"}.get(status, "mlflow_error")


class MlflowRepositorySource:
    """Any other store, through MLflow's own artifact repositories (progress per file)."""

    def __init__(self, uri: str) -> None:
        from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository

        self.repository = get_artifact_repository(uri)
        self.description = uri

    def list(self) -> list[Artifact]:
        found, pending = [], [""]
        while pending:
            directory = pending.pop()
            for info in self.repository.list_artifacts(directory or None):
                if info.is_dir:
                    pending.append(info.path)
                else:
                    found.append(Artifact(info.path, info.file_size))
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
            os.replace(downloaded, destination)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        on_bytes(destination.stat().st_size)


def source_for(
    uri: str, env: Mapping[str, str], local_artifacts: Path | None = None, timeout: float = 60.0
) -> ArtifactSource:
    """The source of a version's artifacts. `local_artifacts` is the tracking server's artifact
    directory when this server can read it (a managed group): then no HTTP at all. `timeout`:
    seconds an HTTP source may stay silent."""
    parts = urlsplit(uri)
    scheme = parts.scheme.lower()
    if scheme == "file":
        return LocalSource(Path(unquote(parts.path)))
    if scheme == "mlflow-artifacts":
        path = unquote(parts.path).lstrip("/")
        if local_artifacts is not None and not parts.netloc:
            return LocalSource(local_artifacts / path)
        base = f"http://{parts.netloc}" if parts.netloc else env.get("MLFLOW_TRACKING_URI", "")
        auth = TrackingAuth.from_env({**env, "MLFLOW_TRACKING_URI": base})
        return HttpArtifactSource(HttpPool(auth, timeout), ARTIFACTS_API, path)
    if scheme in ("http", "https") and ARTIFACTS_API in parts.path:
        prefix, _, path = parts.path.partition(ARTIFACTS_API)
        auth = TrackingAuth.from_env(
            {**env, "MLFLOW_TRACKING_URI": f"{scheme}://{parts.netloc}{prefix}"}
        )
        return HttpArtifactSource(HttpPool(auth, timeout), ARTIFACTS_API, unquote(path))
    if scheme in ("s3", "s3a"):
        return S3Source(uri, env)
    return MlflowRepositorySource(uri)
