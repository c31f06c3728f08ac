"""Nothing a registered version says steers a copy out of its store (deploy/sources.py): no
symbolic link followed on a local path, nor a file or directory swapped for one after the
listing; no file written past the size its store announced; no download from (nor credentials
to) a host other than the tracking server unless the admin allowed it; the tracking server over
a unix socket; and every MLflow 3 registration source deploying, through the copy worker.

Real parts: `mlflow server` processes, real files, moto's S3; the copy worker is run as the
server runs it (a process, the spec on stdin, JSON events on stdout). The one fake is
`HostileMlflow`, a peer that misbehaves as no real MLflow can be made to (see there).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from support.deploying import local_experiment, register_version, sha256_tree
from support.servers import MlflowServer, MotoS3, start_mlflow

from jupyter_mlflow_groups.deploy.errors import CopyError
from jupyter_mlflow_groups.deploy.http_pool import UnixHTTPConnection
from jupyter_mlflow_groups.deploy.sources import (
    Artifact,
    LocalSource,
    MlflowRepositorySource,
    S3Source,
)

MB = 1024 * 1024
ARTIFACTS = "/api/2.0/mlflow-artifacts/artifacts"
SECRET = b"the server's own secret, never to be copied"
TOKEN = "group-token-never-elsewhere-7d2e"
MLMODEL = b"flavors:\n  python_function:\n    loader_module: nothing\n"
LINK_ADVICE = "Register the model from its real path"


# -- running the copy worker -------------------------------------------------------------------


@dataclass
class Finished:
    returncode: int
    events: list[dict[str, Any]]

    @property
    def last(self) -> dict[str, Any]:
        return self.events[-1]

    def error(self) -> tuple[str, str]:
        assert (self.returncode, self.last["event"]) == (2, "error"), self.events
        return self.last["code"], self.last["message"]

    def plan(self) -> dict[str, Any]:
        assert (self.returncode, self.last["event"]) == (0, "done"), self.events
        return next(event for event in self.events if event["event"] == "plan")


def run_worker(spec: dict[str, Any], **env: str) -> Finished:
    """The copy worker as the server runs it, with only `env` of MLflow's and AWS's variables."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "AWS_"))}
    result = subprocess.run(
        [sys.executable, "-m", "jupyter_mlflow_groups.deploy.worker"],
        input=json.dumps({"timeout": 30, **spec}).encode(),
        capture_output=True,
        env={**clean, **env},
        timeout=300,
    )
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert events, result.stderr.decode()[-3000:]
    return Finished(result.returncode, events)


def spec_for(staging: Path, model: str = "m", version: str = "1", **extra: Any) -> dict[str, Any]:
    return {"model": model, "requested": version, "staging": str(staging), **extra}


def files_in(directory: Path) -> dict[str, bytes]:
    if not directory.exists():
        return {}
    return {
        path.relative_to(directory).as_posix(): path.read_bytes()
        for path in directory.rglob("*")
        if path.is_file()
    }


def nowhere_in(directory: Path, secret: bytes) -> bool:
    return all(secret not in content for content in files_in(directory).values())


# -- links on a local store, through the worker (a real MLflow with a file:// experiment) --------


@pytest.fixture
def local_version(deploy_server, sklearn_model, tmp_path) -> Callable[..., tuple[str, str, Path]]:
    """Registers a version whose artifacts are in a local directory; returns (model, version,
    that directory)."""
    experiment = local_experiment(deploy_server, tmp_path / "file-store")

    def register(name: str, extra: dict[str, bytes] | None = None) -> tuple[str, str, Path]:
        version, source = register_version(
            deploy_server, name, sklearn_model[0], extra, experiment=experiment
        )
        return name, version, source

    return register


def replace_with_link(path: Path, elsewhere: Path) -> None:
    """Move `path` to `elsewhere` and leave a symbolic link to it in its place."""
    shutil.move(path, elsewhere)
    path.symlink_to(elsewhere)


@pytest.mark.parametrize("linked", ["model", "artifacts", "store"])
def test_a_link_on_the_way_to_the_artifacts_is_not_followed(
    linked, deploy_server, local_version, tmp_path
):
    """The version's model directory, the run's artifacts/ above it, or the experiment's store
    further up is a link: the copy stops at it, although the files behind it are a model."""
    model, version, source = local_version(f"linked-{linked}")
    link = {"model": source, "artifacts": source.parent, "store": tmp_path / "file-store"}[linked]
    replace_with_link(link, tmp_path / "real-location")

    finished = run_worker(
        spec_for(tmp_path / "staging", model, version), MLFLOW_TRACKING_URI=deploy_server.url
    )

    code, message = finished.error()
    assert code == "unsafe_path"
    assert f"{link} is a symbolic link" in message and LINK_ADVICE in message
    assert files_in(tmp_path / "staging") == {}


@pytest.mark.parametrize("kind", ["file", "directory"])
def test_a_link_inside_the_model_is_refused(kind, deploy_server, local_version, tmp_path):
    model, version, source = local_version(f"inner-link-{kind}")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(SECRET)
    if kind == "file":
        (source / "weights.bin").symlink_to(outside / "secret.txt")
    else:
        (source / "extras").symlink_to(outside)

    finished = run_worker(
        spec_for(tmp_path / "staging", model, version), MLFLOW_TRACKING_URI=deploy_server.url
    )

    code, message = finished.error()
    linked = source / ("weights.bin" if kind == "file" else "extras")
    assert (code, f"{linked} is a symbolic link" in message) == ("unsafe_path", True), message
    assert nowhere_in(tmp_path / "staging", SECRET)


def test_a_fifo_in_the_model_is_refused(deploy_server, local_version, tmp_path):
    model, version, source = local_version("with-fifo")
    os.mkfifo(source / "pipe")

    finished = run_worker(
        spec_for(tmp_path / "staging", model, version), MLFLOW_TRACKING_URI=deploy_server.url
    )

    assert finished.error() == (
        "unsafe_path",
        f"{source / 'pipe'} is a FIFO, not a regular file: the copy takes only regular files and "
        "directories",
    )


# -- swapped between the listing and the copy (the source itself, deterministically) ----------


@pytest.fixture
def listed(tmp_path) -> tuple[LocalSource, dict[str, Artifact], Path]:
    """A model directory, listed: (its source, its artifacts by path, a directory outside it
    holding a secret under the model's file names)."""
    model = tmp_path / "model"
    (model / "sub").mkdir(parents=True)
    (model / "MLmodel").write_bytes(MLMODEL)
    (model / "weights.bin").write_bytes(b"w" * len(SECRET))
    (model / "sub" / "part.bin").write_bytes(b"p" * len(SECRET))
    outside = tmp_path / "outside"
    outside.mkdir()
    for name in ("weights.bin", "part.bin", "secret.txt"):
        (outside / name).write_bytes(SECRET)
    source = LocalSource(model)
    return source, {artifact.path: artifact for artifact in source.list()}, outside


def fetch(source: LocalSource, artifact: Artifact, staging: Path) -> Path:
    destination = staging / artifact.path
    destination.parent.mkdir(parents=True, exist_ok=True)
    source.fetch(artifact, destination, lambda count: None, lambda: False)
    return destination


def test_a_file_swapped_for_a_link_after_the_listing_is_not_followed(listed, tmp_path):
    source, artifacts, outside = listed
    weights = source.root / "weights.bin"
    weights.unlink()
    weights.symlink_to(outside / "secret.txt")

    with pytest.raises(CopyError) as refused:
        fetch(source, artifacts["weights.bin"], tmp_path / "staging")

    assert refused.value.code == "unsafe_path"
    assert f"{weights} is a symbolic link" in refused.value.message
    assert nowhere_in(tmp_path / "staging", SECRET)


def test_a_directory_swapped_for_a_link_after_the_listing_is_not_followed(listed, tmp_path):
    source, artifacts, outside = listed
    shutil.move(source.root / "sub", tmp_path / "moved-sub")
    (source.root / "sub").symlink_to(outside)  # which holds a part.bin: the secret

    with pytest.raises(CopyError) as refused:
        fetch(source, artifacts["sub/part.bin"], tmp_path / "staging")

    assert refused.value.code == "unsafe_path"
    assert f"{source.root / 'sub'} is a symbolic link" in refused.value.message
    assert nowhere_in(tmp_path / "staging", SECRET)


def test_a_file_swapped_for_a_fifo_after_the_listing_is_refused_without_waiting(listed, tmp_path):
    """Opening a FIFO for reading waits for a writer, for ever: the copy opens without waiting
    and refuses what is not a regular file."""
    source, artifacts, _ = listed
    (source.root / "weights.bin").unlink()
    os.mkfifo(source.root / "weights.bin")
    outcome: list[BaseException | None] = []

    def attempt() -> None:
        try:
            fetch(source, artifacts["weights.bin"], tmp_path / "staging")
            outcome.append(None)
        except BaseException as error:
            outcome.append(error)

    copying = threading.Thread(target=attempt, daemon=True)
    copying.start()
    copying.join(timeout=120)  # a guard against a hang, not a measure of speed
    assert outcome, "the copy waited on the FIFO"
    assert isinstance(outcome[0], CopyError) and outcome[0].code == "unsafe_path"
    assert "is a FIFO, not a regular file" in outcome[0].message


def test_a_local_file_grown_after_the_listing_is_refused(listed, tmp_path):
    source, artifacts, _ = listed
    with (source.root / "weights.bin").open("ab") as grown:
        grown.write(SECRET)

    with pytest.raises(CopyError) as refused:
        fetch(source, artifacts["weights.bin"], tmp_path / "staging")

    size = artifacts["weights.bin"].size
    assert refused.value.code == "unsafe_source"
    assert f"the store sent more than the {size} bytes it announced for weights.bin" in str(
        refused.value
    )
    assert nowhere_in(tmp_path / "staging", SECRET)


# -- a hostile artifact server -----------------------------------------------------------------


@dataclass
class Served:
    """A file as the hostile server sends it: `body` `repeat` times, with a Content-Length
    header (the true one, or `claimed`) or, without `content_length`, none: then the end of the
    file is the connection's close."""

    body: bytes
    repeat: int = 1
    content_length: bool = True
    claimed: int | None = None


@dataclass
class HostileMlflow:
    """A fake on purpose: a peer speaking just enough of MLflow's REST API (a version's download
    URI, a run, the artifact listing and downloads) to misbehave as a real MLflow cannot be made
    to: a listed size it does not keep to, listings in other shapes, artifacts on another host, a
    redirect. It records each request's path and headers, which a real MLflow cannot show."""

    download_uri: str = "mlflow-artifacts:/0/r1/artifacts/model"
    run: dict[str, Any] = field(default_factory=dict)
    listings: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    files: dict[str, Served] = field(default_factory=dict)
    redirect: str | None = None
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def start(self) -> HostileMlflow:
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urlsplit(self.path)
                peer.requests.append((url.path, dict(self.headers)))
                if url.path.endswith("/model-versions/get-download-uri"):
                    self.send_json({"artifact_uri": peer.download_uri})
                elif url.path.endswith("/runs/get"):
                    self.send_json({"run": peer.run})
                elif url.path == ARTIFACTS:
                    directory = parse_qs(url.query).get("path", [""])[0]
                    self.send_json({"files": peer.listings.get(directory, [])})
                elif url.path.startswith(f"{ARTIFACTS}/"):
                    self.send_file(peer.files.get(unquote(url.path[len(ARTIFACTS) + 1 :])))
                else:
                    self.send_json({"error_code": "ENDPOINT_NOT_FOUND"}, 404)

            def send_json(self, body: dict[str, Any], status: int = 200) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def send_file(self, served: Served | None) -> None:
                if served is None:
                    return self.send_json({"error_code": "RESOURCE_DOES_NOT_EXIST"}, 404)
                if peer.redirect:
                    self.send_response(302)
                    self.send_header("Location", peer.redirect)
                    self.send_header("Content-Length", "0")
                    return self.end_headers()
                self.send_response(200)
                if served.content_length:
                    length = served.claimed or len(served.body) * served.repeat
                    self.send_header("Content-Length", str(length))
                self.end_headers()
                with contextlib.suppress(OSError):  # the copy hung up: exactly what is tested
                    for _ in range(served.repeat):
                        self.wfile.write(served.body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def serve_model(self, directory: str, files: dict[str, bytes], unsized: str = "") -> None:
        """List `files` (paths under `directory`) and serve them; the listing gives no size for
        the file `unsized`."""
        for relative, content in files.items():
            parent, _, name = f"{directory}/{relative}".rpartition("/")
            entry: dict[str, Any] = {"path": name, "is_dir": False}
            if relative != unsized:
                entry["file_size"] = len(content)
            self.listings.setdefault(parent, []).append(entry)
            self.files[f"{parent}/{name}"] = Served(content)
            while parent != directory:  # the directories on the way, listed in their parents
                parent, _, name = parent.rpartition("/")
                subdirectory = {"path": name, "is_dir": True}
                if subdirectory not in self.listings.setdefault(parent, []):
                    self.listings[parent].append(subdirectory)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hostile() -> Iterator[HostileMlflow]:
    server = HostileMlflow().start()
    yield server
    server.close()


@pytest.fixture
def other_host() -> Iterator[HostileMlflow]:
    """Another server with a model (127.0.0.1 too, but on its own port: another origin)."""
    server = HostileMlflow().start()
    server.serve_model("elsewhere/model", {"MLmodel": MLMODEL, "weights.bin": b"w" * 100})
    yield server
    server.close()


MODEL_DIR = "0/r1/artifacts/model"


@pytest.mark.parametrize("content_length", [True, False], ids=["content-length", "until-close"])
def test_a_store_sending_more_than_it_announced_is_cut_off(content_length, hostile, tmp_path):
    """It lists a 10-byte file and streams 200 MB, announcing them (Content-Length) or not."""
    hostile.serve_model(MODEL_DIR, {"MLmodel": MLMODEL, "weights.bin": b"0123456789"})
    hostile.files[f"{MODEL_DIR}/weights.bin"] = Served(
        b"x" * MB, repeat=200, content_length=content_length
    )

    finished = run_worker(spec_for(tmp_path / "staging"), MLFLOW_TRACKING_URI=hostile.url)

    code, message = finished.error()
    assert code == "unsafe_source"
    assert "the store sent more than the 10 bytes it announced for weights.bin" in message
    weights = tmp_path / "staging" / "weights.bin"
    assert not weights.exists() or weights.stat().st_size <= 10


def test_a_file_of_unknown_size_is_refused(hostile, tmp_path):
    hostile.serve_model(MODEL_DIR, {"MLmodel": MLMODEL, "weights.bin": b""}, unsized="weights.bin")
    hostile.files[f"{MODEL_DIR}/weights.bin"] = Served(b"x" * MB, repeat=200, content_length=False)

    finished = run_worker(spec_for(tmp_path / "staging"), MLFLOW_TRACKING_URI=hostile.url)

    code, message = finished.error()
    assert code == "unsafe_source"
    assert "the store announced no size for weights.bin" in message
    assert files_in(tmp_path / "staging").get("weights.bin", b"") == b""


def test_without_a_listed_size_the_answer_s_length_caps_the_file(hostile, tmp_path):
    """No size in the listing: the Content-Length is the cap, whatever follows it."""
    hostile.serve_model(MODEL_DIR, {"MLmodel": MLMODEL, "weights.bin": b""}, unsized="weights.bin")
    hostile.files[f"{MODEL_DIR}/weights.bin"] = Served(b"0123456789" * MB, claimed=10)

    finished = run_worker(spec_for(tmp_path / "staging"), MLFLOW_TRACKING_URI=hostile.url)

    assert finished.plan()["files"] == 2
    assert files_in(tmp_path / "staging") == {"MLmodel": MLMODEL, "weights.bin": b"0123456789"}


#: A listed entry's `path` as stores give it: a bare name (MLflow's server), relative to the run's
#: artifact root (what MLflow's runs:/ repository lists), or to the store's root.
SHAPES: dict[str, Callable[[str, str], str]] = {
    "bare-name": lambda directory, name: name,
    "run-root": lambda directory, name: f"{directory.removeprefix('0/r1/artifacts/')}/{name}",
    "store-root": lambda directory, name: f"{directory}/{name}",
}


@pytest.mark.parametrize("shape", SHAPES)
def test_a_runs_source_listed_in_any_shape_deploys(shape, hostile, tmp_path):
    """A `runs:/` version whose listing names `model/MLmodel` (relative to the run's root)
    once failed as not a model; every shape lands in the same place."""
    files = {"MLmodel": MLMODEL, "sub/deeper/part.bin": b"p" * 300, "weights.bin": b"w" * 200}
    hostile.serve_model(MODEL_DIR, files)
    for directory, entries in hostile.listings.items():
        for entry in entries:
            entry["path"] = SHAPES[shape](directory, entry["path"])
    hostile.download_uri = "runs:/r1/model"
    hostile.run = {"info": {"run_id": "r1", "artifact_uri": "mlflow-artifacts:/0/r1/artifacts"}}

    finished = run_worker(spec_for(tmp_path / "staging"), MLFLOW_TRACKING_URI=hostile.url)

    assert finished.plan()["source"] == f"{hostile.url}{ARTIFACTS}/{MODEL_DIR}"
    assert files_in(tmp_path / "staging") == files


def test_a_listing_that_names_a_file_of_another_directory_is_refused(hostile, tmp_path):
    hostile.serve_model(MODEL_DIR, {"MLmodel": MLMODEL})
    hostile.listings[MODEL_DIR].append({"path": "elsewhere/weights.bin", "file_size": 3})

    finished = run_worker(spec_for(tmp_path / "staging"), MLFLOW_TRACKING_URI=hostile.url)

    code, message = finished.error()
    assert code == "mlflow_error"
    assert f"listing of '{MODEL_DIR}' names 'elsewhere/weights.bin', which is not in it" in message


# -- the tracking server's host only, unless the admin allows another ---------------------------


def elsewhere(other: HostileMlflow, form: str) -> str:
    port = other.url.rsplit(":", 1)[1]
    return {
        "http": f"{other.url}{ARTIFACTS}/elsewhere/model",
        "mlflow-artifacts": f"mlflow-artifacts://127.0.0.1:{port}/elsewhere/model",
    }[form]


@pytest.mark.parametrize("form", ["http", "mlflow-artifacts"])
def test_artifacts_on_another_host_are_refused(form, hostile, other_host, tmp_path):
    hostile.download_uri = elsewhere(other_host, form)

    finished = run_worker(
        spec_for(tmp_path / "staging"),
        MLFLOW_TRACKING_URI=hostile.url,
        MLFLOW_TRACKING_TOKEN=TOKEN,
    )

    code, message = finished.error()
    host = other_host.url.removeprefix("http://")
    assert code == "unsafe_source"
    assert f"the version's artifacts are on {host}, not on the tracking server" in message
    assert "download hosts" in message
    assert other_host.requests == []  # not even asked
    assert files_in(tmp_path / "staging") == {}


def test_the_same_host_under_another_scheme_is_another_host(hostile, tmp_path):
    hostile.download_uri = f"{hostile.url.replace('http:', 'https:')}{ARTIFACTS}/{MODEL_DIR}"

    finished = run_worker(spec_for(tmp_path / "staging"), MLFLOW_TRACKING_URI=hostile.url)

    assert finished.error()[0] == "unsafe_source"


@pytest.mark.parametrize("allowed", ["host", "host:port"])
@pytest.mark.parametrize("form", ["http", "mlflow-artifacts"])
def test_an_allowed_host_serves_the_artifacts_without_the_group_s_credentials(
    form, allowed, hostile, other_host, tmp_path
):
    hostile.download_uri = elsewhere(other_host, form)
    entry = "127.0.0.1" if allowed == "host" else other_host.url.removeprefix("http://")

    finished = run_worker(
        spec_for(tmp_path / "staging", download_hosts=[entry]),
        MLFLOW_TRACKING_URI=hostile.url,
        MLFLOW_TRACKING_TOKEN=TOKEN,
    )

    assert finished.plan()["source"] == f"{other_host.url}{ARTIFACTS}/elsewhere/model"
    assert files_in(tmp_path / "staging") == {"MLmodel": MLMODEL, "weights.bin": b"w" * 100}
    assert other_host.requests and all(
        "Authorization" not in headers for _, headers in other_host.requests
    )
    assert all(headers["Authorization"] == f"Bearer {TOKEN}" for _, headers in hostile.requests)


def test_a_redirect_is_not_followed(hostile, other_host, tmp_path):
    hostile.serve_model(MODEL_DIR, {"MLmodel": MLMODEL})
    hostile.redirect = f"{other_host.url}{ARTIFACTS}/elsewhere/model/MLmodel"

    finished = run_worker(spec_for(tmp_path / "staging"), MLFLOW_TRACKING_URI=hostile.url)

    code, message = finished.error()
    assert code == "unsafe_source" and "answered" in message and "redirect (302)" in message
    assert other_host.requests == []


@pytest.mark.parametrize(
    ("uri", "code", "words"),
    [
        ("file://fileserver/models/m", "unsafe_source", "a file on another machine (fileserver)"),
        ("models/m", "unsafe_path", "'models/m' is not an absolute path"),
        ("/srv/models/../../etc", "unsafe_path", "is not an absolute path without '..'"),
    ],
    ids=["file-on-another-machine", "relative-path", "dot-dot"],
)
def test_a_local_location_that_is_not_this_machine_s_absolute_path_is_refused(
    uri, code, words, hostile, tmp_path
):
    hostile.download_uri = uri

    finished = run_worker(spec_for(tmp_path / "staging"), MLFLOW_TRACKING_URI=hostile.url)

    assert finished.error()[0] == code and words in finished.error()[1]


# -- caps on S3 and on MLflow's own repositories (the sources themselves) -----------------------


def test_an_s3_object_grown_after_the_listing_is_cut_off(moto_s3, monkeypatch, tmp_path):
    for name in [name for name in os.environ if name.startswith("AWS_")]:
        monkeypatch.delenv(name)
    keys = {"AWS_ACCESS_KEY_ID": "AKIDCAPTEST", "AWS_SECRET_ACCESS_KEY": "cap-test-secret"}
    for name, value in {**keys, "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    s3 = moto_s3.client(keys["AWS_ACCESS_KEY_ID"], keys["AWS_SECRET_ACCESS_KEY"])
    s3.create_bucket(Bucket="grown-objects")
    s3.put_object(Bucket="grown-objects", Key="m/weights.bin", Body=b"0123456789")
    source = S3Source("s3://grown-objects/m", {"MLFLOW_S3_ENDPOINT_URL": moto_s3.url})
    [artifact] = source.list()
    s3.put_object(Bucket="grown-objects", Key="m/weights.bin", Body=SECRET * 1000)
    staging = tmp_path / "staging"
    staging.mkdir()

    with pytest.raises(CopyError) as refused:
        source.fetch(artifact, staging / "weights.bin", lambda count: None, lambda: False)

    assert refused.value.code == "unsafe_source"
    assert "the store sent more than the 10 bytes it announced for weights.bin" in str(
        refused.value
    )
    assert files_in(staging) == {}  # boto3's temporary file went too


def test_a_file_grown_after_the_listing_is_not_kept_from_mlflow_s_repositories(tmp_path):
    store = tmp_path / "store"
    store.mkdir()
    (store / "weights.bin").write_bytes(b"0123456789")
    source = MlflowRepositorySource(store.as_uri())
    [artifact] = source.list()
    (store / "weights.bin").write_bytes(SECRET * 1000)
    staging = tmp_path / "staging"
    staging.mkdir()

    with pytest.raises(CopyError) as refused:
        source.fetch(artifact, staging / "weights.bin", lambda count: None, lambda: False)

    assert refused.value.code == "unsafe_source"
    assert "the store sent more than the 10 bytes it announced for weights.bin" in str(
        refused.value
    )
    assert files_in(staging) == {}


# -- the tracking server on a unix socket --------------------------------------------------------


@dataclass
class SocketMlflow:
    """A real `mlflow server` listening only on a unix socket (uvicorn's --uds) in a private
    directory; `request` and `root` as MlflowServer's, so register_version works with it."""

    server: MlflowServer
    socket_path: Path

    @property
    def root(self) -> Path:
        return self.server.root

    def request(self, method: str, path: str, body: dict | None = None) -> dict:
        status, data = self.call(method, path, body)
        assert status == 200, data
        return json.loads(data or b"{}")

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, bytes]:
        connection = UnixHTTPConnection(str(self.socket_path), timeout=30)
        try:
            payload = json.dumps(body).encode() if body is not None else None
            headers = {"Content-Type": "application/json"}
            connection.request(method, path, body=payload, headers=headers)
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()


@pytest.fixture(scope="module")
def socket_mlflow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SocketMlflow]:
    root = tmp_path_factory.mktemp("sock-mlflow")
    private = root / "private"
    private.mkdir(mode=0o700)
    socket_path = private / "mlflow.sock"
    server = SocketMlflow(start_mlflow(root, uvicorn_opts=f"--uds {socket_path}"), socket_path)
    try:
        server.server.wait_until_ready(lambda: server.call("GET", "/health")[0] == 200, 180)
        yield server
    finally:
        server.server.stop()


def test_the_tracking_server_over_a_unix_socket(socket_mlflow, sklearn_model, closed_url, tmp_path):
    """Registry calls and mlflow-artifacts: downloads all go over the socket: the tracking URI's
    own port is closed, and no credentials are given."""
    version, source = register_version(
        socket_mlflow, "on-a-socket", sklearn_model[0], {"weights.bin": os.urandom(3 * MB)}
    )
    socket_mlflow.request(
        "POST",
        "/api/2.0/mlflow/registered-models/alias",
        {"name": "on-a-socket", "alias": "champion", "version": version},
    )
    spec = spec_for(
        tmp_path / "staging",
        "on-a-socket",
        "@champion",
        tracking_socket=str(socket_mlflow.socket_path),
    )

    finished = run_worker(spec, MLFLOW_TRACKING_URI=closed_url)

    plan = finished.plan()
    assert plan["version"] == version
    assert plan["source"].endswith(f"on the MLflow socket {socket_mlflow.socket_path}")
    assert sha256_tree(tmp_path / "staging") == sha256_tree(source)


def test_a_tracking_socket_that_is_not_an_absolute_path_is_refused(tmp_path):
    finished = run_worker(spec_for(tmp_path / "staging", tracking_socket="mlflow.sock"))

    assert finished.error() == (
        "bad_request",
        "tracking_socket 'mlflow.sock' is not the absolute path of a unix socket",
    )


# -- every MLflow 3 registration source, end to end ---------------------------------------------


LOG_MODEL = """
import json
import mlflow, mlflow.sklearn
from sklearn.linear_model import LogisticRegression

model = LogisticRegression().fit([[0.0], [1.0]], [0, 1])
with mlflow.start_run() as run:
    logged = mlflow.sklearn.log_model(model, name="model")
by_id = mlflow.register_model(logged.model_uri, "logged-by-id")
client = mlflow.MlflowClient()
client.create_registered_model("logged-by-run")
runs_uri = f"runs:/{run.info.run_id}/model"
by_run = client.create_model_version("logged-by-run", runs_uri, run_id=run.info.run_id)
location = client.get_logged_model(logged.model_id).artifact_location
print(json.dumps({"location": location, "by_id": by_id.version, "by_run": by_run.version}))
"""


@pytest.fixture(scope="module")
def logged_model(deploy_server) -> dict[str, str]:
    """A model logged in a run with MLflow 3's API (mlflow.sklearn.log_model): its files are the
    logged model's, not the run's. Registered by its id (mlflow.register_model makes that
    `models:/m-...`) and by its run (`runs:/<run>/model`). In a process of its own, so that
    mlflow's global tracking URI stays untouched here."""
    result = subprocess.run(
        [sys.executable, "-c", LOG_MODEL],
        capture_output=True,
        env={**os.environ, "MLFLOW_TRACKING_URI": deploy_server.url},
        timeout=300,
    )
    assert result.returncode == 0, result.stderr.decode()[-3000:]
    return json.loads(result.stdout.splitlines()[-1])


@dataclass
class Registered:
    model: str
    version: str
    files: Path  # where the version's files really are
    env: dict[str, str] = field(default_factory=dict)  # the group's artifact-store variables


def create_version(server: MlflowServer, name: str, source: str, run_id: str | None) -> str:
    with contextlib.suppress(Exception):  # already registered
        server.request("POST", "/api/2.0/mlflow/registered-models/create", {"name": name})
    body = {"name": name, "source": source, **({"run_id": run_id} if run_id else {})}
    created = server.request("POST", "/api/2.0/mlflow/model-versions/create", body)
    return str(created["model_version"]["version"])


def registered(
    kind: str,
    server: MlflowServer,
    model_dir: Path,
    logged: dict[str, str],
    moto_s3: MotoS3,
    tmp_path: Path,
) -> Registered:
    """A version whose source is of `kind`, and where its files are."""
    if kind in ("models:/m-<id>", "runs:/ of a logged model"):
        files = server.root / "artifacts" / logged["location"].split(":", 1)[1].lstrip("/")
        by_id = kind.startswith("models")
        name = "logged-by-id" if by_id else "logged-by-run"
        return Registered(name, logged["by_id" if by_id else "by_run"], files)
    if kind == "s3://":
        return s3_version(server, model_dir, moto_s3)
    local = kind in ("file://", "absolute path")
    experiment = local_experiment(server, tmp_path / "file-store") if local else "0"
    name = f"source-{kind.split(':')[0].replace(' ', '-')}"
    version, files = register_version(server, name, model_dir, experiment=experiment)
    run_id = files.parent.parent.name  # <store>/<experiment>/<run>/artifacts/model
    if kind == "absolute path":
        version = create_version(server, name, str(files), run_id)
    elif kind == "runs:/<run>/model":
        version = create_version(server, name, f"runs:/{run_id}/model", run_id)
    return Registered(name, version, files)


def s3_version(server: MlflowServer, model_dir: Path, moto_s3: MotoS3) -> Registered:
    keys = {"AWS_ACCESS_KEY_ID": "AKIDSOURCES", "AWS_SECRET_ACCESS_KEY": "sources-secret"}
    s3 = moto_s3.client(keys["AWS_ACCESS_KEY_ID"], keys["AWS_SECRET_ACCESS_KEY"])
    s3.create_bucket(Bucket="registration-sources")
    for path in model_dir.rglob("*"):
        if path.is_file():
            key = f"iris/{path.relative_to(model_dir).as_posix()}"
            s3.put_object(Bucket="registration-sources", Key=key, Body=path.read_bytes())
    version = create_version(server, "source-s3", "s3://registration-sources/iris", None)
    env = {**keys, "AWS_DEFAULT_REGION": "us-east-1", "MLFLOW_S3_ENDPOINT_URL": moto_s3.url}
    return Registered("source-s3", version, model_dir, env)


#: Each form of a version's source (MLflow 3), and how its `source` field begins.
SOURCE_KINDS = {
    "runs:/<run>/model": "runs:/",  # the run's own artifacts
    "runs:/ of a logged model": "runs:/",  # the files are the run's logged model's
    "models:/m-<id>": "models:/m-",
    "mlflow-artifacts:/": "mlflow-artifacts:/",
    "file://": "file:///",
    "absolute path": "/",
    "s3://": "s3://",
}


@pytest.mark.parametrize("kind", SOURCE_KINDS)
def test_every_mlflow_3_registration_source_deploys(
    kind, deploy_server, sklearn_model, logged_model, moto_s3, tmp_path
):
    version = registered(kind, deploy_server, sklearn_model[0], logged_model, moto_s3, tmp_path)
    query = f"name={version.model}&version={version.version}"
    described = deploy_server.request("GET", f"/api/2.0/mlflow/model-versions/get?{query}")
    assert described["model_version"]["source"].startswith(SOURCE_KINDS[kind])

    finished = run_worker(
        spec_for(tmp_path / "staging", version.model, version.version),
        MLFLOW_TRACKING_URI=deploy_server.url,
        **version.env,
    )

    assert finished.plan()["version"] == version.version
    copied = sha256_tree(tmp_path / "staging")
    assert "MLmodel" in copied and copied == sha256_tree(version.files)
