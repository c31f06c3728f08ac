"""Real servers for the tests: MLflow tracking servers, a TLS front, a socket that never answers,
moto's S3 and a PostgreSQL cluster.

Nothing here imitates MLflow: the MLflow servers are `mlflow server` processes, by default with
a sqlite backend in a temporary directory (one plain and one with the `basic-auth` app and
workspaces); `store=` gives one a production store (PostgreSQL and S3).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import pwd
import secrets
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .processes import ChildProcess, free_port

ADMIN_USER = "admin"
ADMIN_PASSWORD = "admin-password-0123"  # the basic-auth app wants at least 12 characters
READER_USER = "reader"
READER_PASSWORD = "reader-password-0123"
TEAM_WORKSPACE = "team-x"  # a workspace the reader has no permission for


class MlflowServer(ChildProcess):
    """An `mlflow server` process at `url`, keeping its files in `root` (see `start_mlflow`);
    `auth`: the admin's user name and password where the basic-auth app is on."""

    program = "mlflow server"
    grace = 20

    def __init__(self, url: str, root: Path, auth: tuple[str, str] | None = None) -> None:
        super().__init__(root / "server.log")
        self.url = url
        self.root = root
        self.auth = auth

    def request(self, method: str, path: str, body: dict | None = None) -> dict:
        """A call to the server's REST API (as admin where auth is on)."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.url}{path}", data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if self.auth:
            token = base64.b64encode(":".join(self.auth).encode()).decode()
            request.add_header("Authorization", f"Basic {token}")
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"{}")


@dataclass
class ProductionStore:
    """Where a production MLflow keeps things: a SQL database, and an S3 bucket that clients
    (kernels, copy jobs) reach directly with the variables in `artifact_env`."""

    backend_uri: str
    artifact_root: str  # s3://bucket/prefix
    artifact_env: dict[str, str]


def start_mlflow(
    root: Path,
    *,
    basic_auth: bool = False,
    workspaces: bool = False,
    workers: int = 1,
    store: ProductionStore | None = None,
    uvicorn_opts: str | None = None,
    extra_env: Mapping[str, str] | None = None,
) -> MlflowServer:
    """Start `mlflow server` (by default one worker, no job runner: the light form); does not
    wait for it to answer. `uvicorn_opts`: e.g. `--uds <path>` (then it listens only there);
    `extra_env`: e.g. what lets it deliver registry webhooks over loopback http."""
    root.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    for name in list(env):
        if name.startswith(("MLFLOW_TRACKING_", "AWS_")):
            del env[name]
    env.update(extra_env or {})
    if store is None:
        store_options = [
            "--backend-store-uri",
            f"sqlite:///{root / 'mlflow.db'}",
            "--artifacts-destination",
            str(root / "artifacts"),
        ]
    else:
        env.update(store.artifact_env)
        store_options = [
            "--backend-store-uri",
            store.backend_uri,
            "--default-artifact-root",
            store.artifact_root,
            "--no-serve-artifacts",
        ]
    command = [
        sys.executable,
        "-m",
        "mlflow",
        "server",
        *store_options,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    auth = None
    if basic_auth:
        config = root / "auth.ini"
        config.write_text(
            "[mlflow]\n"
            "default_permission = NO_PERMISSIONS\n"
            f"database_uri = sqlite:///{root / 'auth.db'}\n"
            f"admin_username = {ADMIN_USER}\n"
            f"admin_password = {ADMIN_PASSWORD}\n"
            "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
        )
        env["MLFLOW_AUTH_CONFIG_PATH"] = str(config)
        env["MLFLOW_FLASK_SERVER_SECRET_KEY"] = "tests-only-flask-secret"
        command += ["--app-name", "basic-auth"]
        auth = (ADMIN_USER, ADMIN_PASSWORD)
    if workspaces:
        command += ["--enable-workspaces"]
    if uvicorn_opts:
        command += ["--uvicorn-opts", uvicorn_opts]
    server = MlflowServer(f"http://127.0.0.1:{port}", root, auth)
    server.spawn(command, env=env, cwd=root)
    return server


def wait_until_healthy(server: MlflowServer, timeout: float = 180) -> None:
    server.wait_until_ready(f"{server.url}/health", timeout)


def prepare_auth_server(server: MlflowServer) -> None:
    """A non-admin user, and a workspace that user has no permission for."""
    server.request(
        "POST",
        "/api/2.0/mlflow/users/create",
        {"username": READER_USER, "password": READER_PASSWORD},
    )
    server.request("POST", "/api/3.0/mlflow/workspaces", {"name": TEAM_WORKSPACE})


class SilentServer:
    """A TCP port that accepts connections (the kernel's backlog) and never answers."""

    def __init__(self) -> None:
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(128)
        self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}"

    def close(self) -> None:
        self.socket.close()


class _LoopbackListener:
    """A TCP listener on loopback that hands each connection to `_serve`, a thread each."""

    scheme = "http"

    def __init__(self) -> None:
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.url = f"{self.scheme}://127.0.0.1:{self.listener.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:  # closed
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self.listener.close()


class _LoopbackProxy(_LoopbackListener):
    """A listener whose connections go on to a real server on `upstream_port`."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        super().__init__()


class TlsFront(_LoopbackProxy):
    """TLS termination in front of a real server: a certificate from a test CA (trustme)."""

    scheme = "https"

    def __init__(self, upstream_port: int, directory: Path) -> None:
        import trustme

        authority = trustme.CA()
        certificate = authority.issue_cert("127.0.0.1", "localhost")
        self.ca_path = directory / "ca.pem"
        authority.cert_pem.write_to_path(str(self.ca_path))
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        certificate.configure_cert(self.context)
        super().__init__(upstream_port)

    def _serve(self, client: socket.socket) -> None:
        try:
            secure = self.context.wrap_socket(client, server_side=True)
        except (ssl.SSLError, OSError):
            client.close()  # a client that refused our certificate: exactly what tests check
            return
        upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
        threading.Thread(target=_pipe, args=(upstream, secure), daemon=True).start()
        _pipe(secure, upstream)


def _pipe(source: socket.socket, target: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while chunk := source.recv(65536):
            target.sendall(chunk)
    for end in (source, target):
        with contextlib.suppress(OSError):
            end.shutdown(socket.SHUT_RDWR)


class CountingProxy(_LoopbackProxy):
    """A TCP proxy in front of a real server that records how many connections were open at
    once: evidence that independent MLflow calls were made concurrently."""

    def __init__(self, upstream_port: int) -> None:
        self.open = self.most_open = self.total = 0
        self._lock = threading.Lock()
        super().__init__(upstream_port)

    def reset(self) -> None:
        with self._lock:
            self.most_open = self.open
            self.total = 0

    def _serve(self, client: socket.socket) -> None:
        with self._lock:
            self.open += 1
            self.total += 1
            self.most_open = max(self.most_open, self.open)
        try:
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            forward = threading.Thread(target=_pipe, args=(upstream, client), daemon=True)
            forward.start()
            _pipe(client, upstream)
            forward.join(timeout=30)
        finally:
            with self._lock:
                self.open -= 1


class ThrottledProxy(CountingProxy):
    """A slow link in front of a real server: answers flow at most `bytes_per_second`."""

    def __init__(self, upstream_port: int, bytes_per_second: int) -> None:
        self.bytes_per_second = bytes_per_second
        super().__init__(upstream_port)

    def _serve(self, client: socket.socket) -> None:
        upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
        threading.Thread(target=_pipe, args=(client, upstream), daemon=True).start()
        with contextlib.suppress(OSError):
            while chunk := upstream.recv(64 * 1024):
                client.sendall(chunk)
                time.sleep(len(chunk) / self.bytes_per_second)
        for end in (client, upstream):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)


class MotoS3(ChildProcess):
    """moto's standalone server: a real S3-compatible endpoint on loopback."""

    program = "moto"
    grace = 20

    def __init__(self, root: Path) -> None:
        super().__init__(root / "moto.log")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)]
        self.spawn(command, env=env)
        self.wait_until_ready(self._listening, 60)

    def _listening(self) -> bool:
        with socket.create_connection(("127.0.0.1", self.port), timeout=1):
            return True

    def client(self, key_id: str, secret: str):
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.url,
            aws_access_key_id=key_id,
            aws_secret_access_key=secret,
            region_name="us-east-1",
        )


class Postgres(ChildProcess):
    """A PostgreSQL cluster of its own (Debian's `postgresql` binaries) on a loopback port, with
    a password-protected database for MLflow. PostgreSQL refuses to run as root: as root, the
    cluster belongs to the `postgres` account the package creates."""

    program = "postgres"
    terminate_group = False  # smart shutdown: the postmaster waits for MLflow's connections

    def __init__(self) -> None:
        installed = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"))
        if not installed:
            raise RuntimeError("PostgreSQL is not installed: apt-get install postgresql")
        binaries = installed[-1].parent
        self.root = Path(tempfile.mkdtemp(prefix="mlflow-groups-pg-"))  # reachable by `postgres`
        self.port = free_port()
        self.password = secrets.token_hex(12)
        self._account = "postgres" if os.geteuid() == 0 else None
        if self._account:
            account = pwd.getpwnam(self._account)
            os.chown(self.root, account.pw_uid, account.pw_gid)
        password_file = self.root / "password"
        password_file.write_text(self.password)
        data = self.root / "data"
        # (paths from mkdtemp hold no spaces: the options can be written as one line each)
        initdb = f"-D {data} -U mlflow --pwfile {password_file} --auth scram-sha-256 --no-sync"
        subprocess.run(
            [str(binaries / "initdb"), *initdb.split()],
            check=True,
            capture_output=True,
            user=self._account,
        )
        password_file.unlink()
        super().__init__(self.root / "postgres.log")
        options = f"-D {data} -p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"
        self.spawn(
            [str(binaries / "postgres"), *options.split(), "-c", "fsync=off"], user=self._account
        )
        self.uri = f"postgresql://mlflow:{self.password}@127.0.0.1:{self.port}/postgres"
        self.wait_until_ready(lambda: self.query("select 1"), 60)

    def query(self, sql: str) -> list[tuple]:
        import psycopg

        with psycopg.connect(self.uri, connect_timeout=5, autocommit=True) as connection:
            cursor = connection.execute(sql)
            return cursor.fetchall() if cursor.description else []

    def stop(self) -> None:
        super().stop()
        shutil.rmtree(self.root, ignore_errors=True)


class GarbageServer(_LoopbackListener):
    """An HTTP port that answers every request with one kind of garbage, chosen by `mode`.

    A fake on purpose: a real MLflow server cannot be made to answer garbage, and this is what a
    wrong URL, a login page or a broken proxy in front of MLflow looks like. Modes: `html` (200,
    a web page), `truncated` (200, JSON cut short), `wrong_shape` (200, a JSON object whose fields
    have the wrong types), `not_http` (bytes that are not HTTP at all), `html_500` (500, a web
    page)."""

    MODES = ("html", "truncated", "wrong_shape", "not_http", "html_500")
    _PAGE = b"<!doctype html><html><body><h1>Welcome to nginx!</h1></body></html>"
    _WRONG_SHAPE = {
        key: ["surprise"]
        for key in (
            "registered_models",
            "registered_model",
            "model_versions",
            "model_version",
            "run",
            "metrics",
            "artifact_uri",
            "files",
            "next_page_token",
        )
    }

    def __init__(self, mode: str = "html") -> None:
        self.mode = mode
        super().__init__()

    def _serve(self, client: socket.socket) -> None:
        with client, contextlib.suppress(OSError):
            client.settimeout(10)
            request = b""
            while b"\r\n\r\n" not in request and (chunk := client.recv(65536)):
                request += chunk
            client.sendall(self.response())
            client.shutdown(socket.SHUT_RDWR)

    def response(self) -> bytes:
        if self.mode == "not_http":
            return bytes(range(256)) * 64
        status, kind, body = {
            "html": ("200 OK", "text/html", self._PAGE),
            "truncated": ("200 OK", "application/json", b'{"registered_models": [{"name": "a'),
            "wrong_shape": ("200 OK", "application/json", json.dumps(self._WRONG_SHAPE).encode()),
            "html_500": ("500 Internal Server Error", "text/html", self._PAGE),
        }[self.mode]
        head = (
            f"HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n"
        )
        return head.encode() + body
