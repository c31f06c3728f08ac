"""A real `jupyter server` process, configured only by what `pip install` shipped, and a
minimal client for a Jupyter server's REST API and kernel websockets (used by tests and
benchmarks; the client also talks to single-user servers behind JupyterHub's proxy)."""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect

from .processes import ChildProcess, free_port

SERVER = [sys.executable, "-m", "jupyter", "server"]


class JupyterClient:
    """A Jupyter server at `url` (with its base path), authenticated by `token`."""

    def __init__(self, url: str, token: str) -> None:
        self.url = url
        self.token = token

    def request(self, method: str, path: str, body: Any = None) -> Any:
        with self._open(method, path, body) as response:
            return json.loads(response.read() or b"null")

    def _open(self, method: str, path: str, body: Any) -> Any:
        data = json.dumps(body).encode() if body is not None else (b"" if method != "GET" else None)
        request = urllib.request.Request(f"{self.url}{path}", data=data, method=method)
        request.add_header("Authorization", f"token {self.token}")
        return urllib.request.urlopen(request, timeout=60)

    def answer(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """(status, JSON body) of a request, errors included."""
        try:
            with self._open(method, path, body) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def start_kernel(self, name: str = "python3") -> str:
        return self.request("POST", "/api/kernels", {"name": name})["id"]

    async def execute(self, kernel_id: str, code: str, timeout: float = 60) -> str:
        """Run `code` over the kernel's websocket; return its output as text (what it prints,
        and the plain-text form of what it displays)."""
        return await self._roundtrip(
            kernel_id,
            "execute_request",
            {
                "code": code,
                "silent": False,
                "store_history": False,
                "user_expressions": {},
                "allow_stdin": False,
                "stop_on_error": True,
            },
            timeout,
        )

    async def run_notebook(self, path: Path, timeout: float = 300) -> list[str]:
        """Every code cell of the notebook, in order, in one new kernel: each cell's output as
        text (raises at the first cell that fails)."""
        import nbformat

        kernel_id = self.start_kernel()
        try:
            await self.wait_ready(kernel_id)
            outputs = []
            for cell in nbformat.read(path, as_version=4).cells:
                if cell.cell_type == "code":
                    try:
                        outputs.append(await self.execute(kernel_id, cell.source, timeout))
                    except RuntimeError as error:
                        raise RuntimeError(f"{error} in the cell:\n{cell.source}") from error
            return outputs
        finally:
            self.request("DELETE", f"/api/kernels/{kernel_id}")

    async def wait_ready(self, kernel_id: str, timeout: float = 60) -> None:
        """Until the kernel answers a kernel_info_request: ready for work."""
        await self._roundtrip(kernel_id, "kernel_info_request", {}, timeout)

    async def _roundtrip(self, kernel_id: str, msg_type: str, content: dict, timeout: float) -> str:
        url = f"ws{self.url.removeprefix('http')}/api/kernels/{kernel_id}/channels"
        connection = await websocket_connect(
            HTTPRequest(
                url, headers={"Authorization": f"token {self.token}"}, connect_timeout=timeout
            )
        )
        msg_id = uuid.uuid4().hex
        connection.write_message(
            json.dumps(
                {
                    "header": {
                        "msg_id": msg_id,
                        "msg_type": msg_type,
                        "session": uuid.uuid4().hex,
                        "username": "test",
                        "version": "5.3",
                        "date": "",
                    },
                    "parent_header": {},
                    "metadata": {},
                    "content": content,
                    "channel": "shell",
                    "buffers": [],
                }
            )
        )
        output: list[str] = []
        reply_seen = idle_seen = False
        deadline = time.monotonic() + timeout
        try:
            while not (reply_seen and (idle_seen or msg_type != "execute_request")):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{msg_type} got no reply in {timeout} s")
                raw = await connection.read_message()
                if raw is None:
                    raise ConnectionError("kernel websocket closed")
                if isinstance(raw, bytes):  # a message with binary buffers (widget state)
                    continue
                message = json.loads(raw)
                if message.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                kind = message["header"]["msg_type"]
                if kind == "stream":
                    output.append(message["content"]["text"])
                elif kind in ("execute_result", "display_data"):
                    output.append(message["content"]["data"].get("text/plain", "") + "\n")
                elif kind == "status" and message["content"]["execution_state"] == "idle":
                    idle_seen = True
                elif kind.endswith("_reply"):
                    reply_seen = True
                    if message["content"].get("status") == "error":
                        raise RuntimeError(message["content"].get("evalue"))
        finally:
            connection.close()
        return "".join(output)


class JupyterServerProcess(JupyterClient, ChildProcess):
    """A `jupyter server` (or what `launcher` starts) on a loopback port of its own, with a
    token of its own and HOME and the Jupyter directories under `home`."""

    program = "jupyter server"

    def __init__(
        self,
        home: Path,
        env: dict[str, str] | None = None,
        args: list[str] | None = None,
        launcher: list[str] = SERVER,
        serve_home: bool = True,
    ) -> None:
        """`launcher`: what starts the server (`jupyter server`, or `jupyter lab`, the demo, the
        binder start script...); the connection options are appended to it. `serve_home`: the
        server's root is `home` (else the launcher's own choice)."""
        self.home = home
        self.port = free_port()
        JupyterClient.__init__(self, f"http://127.0.0.1:{self.port}", uuid.uuid4().hex)
        ChildProcess.__init__(self, home / f"jupyter-{self.port}.log")
        self.env = {
            **os.environ,
            "HOME": str(home),
            "JUPYTER_CONFIG_DIR": str(home / "config"),
            "JUPYTER_DATA_DIR": str(home / "data"),
            "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
            **(env or {}),
        }
        self.args = args or []
        self.launcher = launcher
        self.serve_home = serve_home

    def start(self, timeout: float = 60) -> JupyterServerProcess:
        command = [
            *self.launcher,
            "--no-browser",
            "--allow-root",
            f"--port={self.port}",
            "--ip=127.0.0.1",
            f"--IdentityProvider.token={self.token}",
            *([f"--ServerApp.root_dir={self.home}"] if self.serve_home else []),
            *self.args,
        ]
        self.home.mkdir(parents=True, exist_ok=True)
        # SIGINT as a service manager leaves it: tests stop Jupyter with Ctrl-C too
        self.spawn(command, env=self.env, default_sigint=True)
        self.wait_until_ready(lambda: self.request("GET", "/api/status"), timeout)
        return self
