"""The copy job's process: plan, copy into staging, verify; progress as JSON lines on stdout.

    python -m jupyter_mlflow_groups.deploy.worker < spec.json

It runs with the group's environment (tracking credentials, artifact-store keys), never the
server's, and imports neither mlflow nor the server (mlflow only for exotic stores). The spec:
`{"model", "requested" ("3" or "@alias"), "staging", "threads", "local_artifacts", "timeout",
"tracking_socket", "download_hosts"}`; the last two are optional:

- `tracking_socket`: the absolute path of a unix socket the tracking server listens on (a managed
  group's MLflow, in a private directory). Every request to the tracking server (registry calls,
  and `mlflow-artifacts:` downloads when `local_artifacts` is not set) goes there, with
  `Host: localhost`, instead of to MLFLOW_TRACKING_URI's host and port.
- `download_hosts`: `["host", "host:port", ...]`, other hosts whose MLflow artifact API
  (`mlflow-artifacts://host:port/...`, `http(s)://host:port/.../mlflow-artifacts/artifacts/...`)
  a version's artifacts may be downloaded from ("host": on any port). They never get the group's
  credentials. Without it, such URIs must be on the tracking server's scheme, host and port.

Events: `{"event": "plan", "version", "source", "files", "bytes"}`, `{"event": "progress",
"bytes", "files"}` (every 0.1 s), `{"event": "verifying"}`, `{"event": "verified"}`, then
`{"event": "done"}`; or `{"event": "error", "code", "message"}`. SIGTERM stops it cleanly
(exit 3), even while it waits on a hung server; so does the server's death (its pipe breaks).
The server removes the staging copy.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import quote, urlsplit

from ..tracking_auth import TrackingAuth
from .errors import CopyError, Stopped
from .http_pool import HttpPool
from .layout import UnsafePath, safe_relative
from .sources import Artifact, ArtifactSource, Store, download_hosts, source_for

REGISTRY = "/api/2.0/mlflow"
DEFAULT_TIMEOUT = 60.0  # seconds without an answer from MLflow or the artifact store
EXIT_FAILED, EXIT_STOPPED = 2, 3


class Events:
    """JSON lines to the server, one writer at a time. When nobody reads them any more (the
    server died: a broken pipe), `on_lost` is called, so the copy stops instead of running on
    as an orphan."""

    def __init__(self, stream: TextIO, on_lost: Callable[[], None] = lambda: None) -> None:
        self.stream = stream
        self.on_lost = on_lost
        self.lock = threading.Lock()

    def emit(self, event: str, **fields: Any) -> None:
        with self.lock:
            try:
                self.stream.write(json.dumps({"event": event, **fields}) + "\n")
                self.stream.flush()
            except (BrokenPipeError, ValueError):  # ValueError: the stream was closed
                self.on_lost()


class Progress:
    """Bytes and files done, shared by the copy threads; reported every `interval` seconds."""

    def __init__(self, events: Events, interval: float = 0.1) -> None:
        self.events = events
        self.interval = interval
        self.bytes = self.files = 0
        self.lock = threading.Lock()
        self.finished = threading.Event()

    def add_bytes(self, count: int) -> None:
        with self.lock:
            self.bytes += count

    def add_file(self) -> None:
        with self.lock:
            self.files += 1

    def report(self) -> None:
        with self.lock:
            snapshot = {"bytes": self.bytes, "files": self.files}
        self.events.emit("progress", **snapshot)

    def run(self) -> None:
        while not self.finished.wait(self.interval):
            self.report()
        self.report()


def resolve_version(pool: HttpPool, model: str, requested: str) -> str:
    """`3` stays 3; `@champion` becomes the version the alias points at now."""
    if not requested.startswith("@"):
        if not requested.isdigit():
            raise CopyError(
                "bad_request", f"'{requested}' is neither a version number nor an @alias"
            )
        return requested
    path = f"{REGISTRY}/registered-models/alias"
    body = pool.get_json(path, {"name": model, "alias": requested[1:]})
    return str(field(pool, path, body, "model_version", "version"))


def field(pool: HttpPool, path: str, body: dict[str, Any], *keys: str) -> Any:
    """`body[k1][k2]...`, or the error saying the answer is not MLflow's API."""
    value: Any = body
    for key in keys:
        if not isinstance(value, dict) or key not in value:
            raise pool.not_mlflow(path, f"JSON without {'.'.join(keys)}")
        value = value[key]
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise pool.not_mlflow(path, f"JSON whose {'.'.join(keys)} is not a string")
    return value


def locations(pool: HttpPool, uri: str) -> Iterator[str]:
    """Where a version's artifacts may be, best first. A `runs:/<run>/<path>` source is the run's
    artifacts at <path>, else (MLflow 3 keeps a logged model's files apart from its run's) the
    files of the run's logged model named like <path>'s first part: MLflow's own order."""
    parts = urlsplit(uri)
    if parts.scheme.lower() != "runs" or parts.netloc:
        yield uri
        return
    run_id, _, path = parts.path.lstrip("/").partition("/")
    api = f"{REGISTRY}/runs/get"
    run = pool.get_json(api, {"run_id": run_id})
    yield join_uri(str(field(pool, api, run, "run", "info", "artifact_uri")), path)
    name, _, rest = path.partition("/")
    for model_id in logged_model_ids(run):
        api = f"{REGISTRY}/logged-models/{quote(model_id, safe='')}"
        model = pool.get_json(api)
        if field(pool, api, model, "model", "info", "name") == name:
            yield join_uri(str(field(pool, api, model, "model", "info", "artifact_uri")), rest)


def logged_model_ids(run: dict[str, Any]) -> list[str]:
    """The logged models a run produced (`run.outputs.model_outputs`, MLflow 3), if any."""
    outputs: Any = run
    for key in ("run", "outputs", "model_outputs"):
        outputs = outputs.get(key) if isinstance(outputs, dict) else None
    if not isinstance(outputs, list):
        return []
    return [
        o["model_id"] for o in outputs if isinstance(o, dict) and isinstance(o.get("model_id"), str)
    ]


def join_uri(base: str, path: str) -> str:
    return f"{base.rstrip('/')}/{path}" if path else base


def first_listed(candidates: Iterable[str], store: Store) -> tuple[ArtifactSource, list[Artifact]]:
    """The first location that holds files, and its files; when none does, the first one's
    "does not exist" if it had one."""
    missing: CopyError | None = None
    for location in candidates:
        source = source_for(location, store)
        try:
            artifacts = source.list()
        except CopyError as error:
            if error.code != "not_found":
                raise
            missing, artifacts = missing or error, []
        if artifacts:
            return source, artifacts
    if missing is not None:
        raise missing
    return source, artifacts


def plan(candidates: Iterable[str], store: Store) -> tuple[ArtifactSource, list[Artifact]]:
    """The source and its files, big ones first: a model (an MLmodel at its top), whose paths
    all stay in the deployment directory, each once."""
    try:
        source, artifacts = first_listed(candidates, store)
        for artifact in artifacts:
            safe_relative(artifact.path)
    except UnsafePath as error:
        raise CopyError("unsafe_path", str(error)) from None
    paths = [artifact.path for artifact in artifacts]
    if len(set(paths)) != len(paths):
        twice = sorted({path for path in paths if paths.count(path) > 1})
        raise CopyError(
            "mlflow_error", f"{source.description} lists {', '.join(twice)} more than once"
        )
    if "MLmodel" not in paths:
        raise CopyError(
            "not_a_model", f"{source.description} holds no MLmodel file: it is not an MLflow model"
        )
    return source, sorted(artifacts, key=lambda artifact: -(artifact.size or 0))  # big first


def copy_all(
    source: ArtifactSource,
    artifacts: list[Artifact],
    staging: Path,
    progress: Progress,
    stop: threading.Event,
    threads: int,
) -> None:
    for directory in sorted({(staging / artifact.path).parent for artifact in artifacts}):
        directory.mkdir(parents=True, exist_ok=True)  # once, not once per file

    failed = threading.Event()  # not `stop`: that one means the job was asked to stop

    def should_stop() -> bool:
        return stop.is_set() or failed.is_set()

    def copy_one(artifact: Artifact) -> None:
        if should_stop():
            raise Stopped()
        try:
            source.fetch(artifact, staging / artifact.path, progress.add_bytes, should_stop)
        except BaseException:
            failed.set()  # one failure stops the others at their next chunk
            raise
        progress.add_file()

    with ThreadPoolExecutor(max(1, threads)) as pool:
        futures = [pool.submit(copy_one, artifact) for artifact in artifacts]
    errors = [error for future in futures if (error := future.exception()) is not None]
    if errors:  # the failure itself, not the others' stopping because of it
        raise next((error for error in errors if not isinstance(error, Stopped)), errors[0])


def verify(staging: Path, artifacts: list[Artifact]) -> None:
    for artifact in artifacts:
        path = staging / artifact.path
        if not path.is_file():
            raise CopyError("mlflow_error", f"{artifact.path} is missing from the copy")
        if artifact.size is not None and path.stat().st_size != artifact.size:
            raise CopyError(
                "mlflow_error",
                f"{artifact.path} has {path.stat().st_size} bytes, the store said {artifact.size}",
            )


def run(spec: dict[str, Any], env: dict[str, str], events: Events, stop: threading.Event) -> None:
    timeout = float(spec.get("timeout") or DEFAULT_TIMEOUT)
    pool = HttpPool(TrackingAuth.from_env(env), timeout, tracking_socket(spec))
    local = Path(spec["local_artifacts"]) if spec.get("local_artifacts") else None
    store = Store(env, pool, local, download_hosts(spec.get("download_hosts")))
    model = spec["model"]
    version = resolve_version(pool, model, spec["requested"])
    path = f"{REGISTRY}/model-versions/get-download-uri"
    body = pool.get_json(path, {"name": model, "version": version})
    location = str(field(pool, path, body, "artifact_uri"))
    source, artifacts = plan(locations(pool, location), store)
    total = sum(artifact.size or 0 for artifact in artifacts)
    events.emit(
        "plan", version=version, source=source.description, files=len(artifacts), bytes=total
    )
    staging = Path(spec["staging"])
    staging.mkdir(parents=True, exist_ok=True)
    progress = Progress(events)
    reporter = threading.Thread(target=progress.run, daemon=True)
    reporter.start()
    try:
        copy_all(source, artifacts, staging, progress, stop, spec.get("threads", 16))
    finally:
        progress.finished.set()
        reporter.join()
    events.emit("verifying")
    verify(staging, artifacts)
    events.emit("verified")


def tracking_socket(spec: dict[str, Any]) -> str | None:
    """The spec's `tracking_socket`: the absolute path of a unix socket, or None."""
    value = spec.get("tracking_socket")
    if value is None:
        return None
    if not isinstance(value, str) or not os.path.isabs(value):
        raise CopyError(
            "bad_request", f"tracking_socket {value!r} is not the absolute path of a unix socket"
        )
    return value


def storage_error(error: OSError, staging: Path) -> CopyError:
    """A failure writing the copy, said in words: a full disk above all."""
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        free = shutil.disk_usage(staging.parent if staging.parent.exists() else "/").free
        return CopyError(
            "disk_full",
            f"the disk holding the deployments is full ({error.strerror}; "
            f"{free / 2**20:.0f} MiB free): the copy was abandoned and nothing was changed",
        )
    return CopyError("storage", f"writing the copy failed: {error.strerror or error}")


def main() -> int:
    stop = threading.Event()
    events = Events(sys.stdout, on_lost=stop.set)

    def stop_now(*_: Any) -> None:
        stop.set()
        raise Stopped()  # also interrupts a call that waits on a hung MLflow

    signal.signal(signal.SIGTERM, stop_now)
    started = time.monotonic()
    spec = json.load(sys.stdin)
    try:
        run(spec, dict(os.environ), events, stop)
    except Stopped:
        return EXIT_STOPPED
    except CopyError as error:
        if stop.is_set():
            return EXIT_STOPPED
        events.emit("error", code=error.code, message=error.message)
        return EXIT_FAILED
    except OSError as error:  # the disk: full, read-only, permissions
        failure = storage_error(error, Path(spec["staging"]))
        events.emit("error", code=failure.code, message=failure.message)
        return EXIT_FAILED
    except Exception as error:  # reported, never a traceback with the environment in it
        events.emit("error", code="mlflow_error", message=f"{error.__class__.__name__}: {error}")
        return EXIT_FAILED
    events.emit("done", seconds=round(time.monotonic() - started, 3))
    return 0


if __name__ == "__main__":
    sys.exit(main())
