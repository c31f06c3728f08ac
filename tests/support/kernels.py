"""Start kernels through the server's REST API and read what they really see."""

from __future__ import annotations

import json
from typing import Any

from jupyter_server.serverapp import ServerApp

ENV_CODE = "import os, json; print(json.dumps(dict(os.environ)))"


async def start_kernel(jp_fetch: Any) -> str:
    response = await jp_fetch("api", "kernels", method="POST", body=json.dumps({"name": "python3"}))
    return json.loads(response.body)["id"]


async def start_session(jp_fetch: Any, path: str = "notebook.ipynb") -> str:
    body = {"path": path, "name": path, "type": "notebook", "kernel": {"name": "python3"}}
    response = await jp_fetch("api", "sessions", method="POST", body=json.dumps(body))
    return json.loads(response.body)["kernel"]["id"]


async def restart_kernel(jp_fetch: Any, kernel_id: str) -> None:
    await jp_fetch("api", "kernels", kernel_id, "restart", method="POST", body="")


async def run_in_kernel(
    serverapp: ServerApp,
    kernel_id: str,
    code: str,
    timeout: float = 60,
    messages: list[dict[str, Any]] | None = None,
) -> str:
    """Execute `code` in the kernel; return its stdout (raises on an error reply). Every
    message the kernel published for it (displays, widget state) is added to `messages`."""
    client = serverapp.kernel_manager.get_kernel(kernel_id).client()
    client.start_channels()
    output: list[str] = []

    def collect(message: dict[str, Any]) -> None:
        if messages is not None:
            messages.append(message)
        if message["msg_type"] == "stream" and message["content"]["name"] == "stdout":
            output.append(message["content"]["text"])

    try:
        await client.wait_for_ready(timeout=timeout)
        reply = await client.execute_interactive(code, output_hook=collect, timeout=timeout)
    finally:
        client.stop_channels()
    assert reply["content"]["status"] == "ok", reply["content"]
    return "".join(output)


async def kernel_env(serverapp: ServerApp, kernel_id: str) -> dict[str, str]:
    return json.loads(await run_in_kernel(serverapp, kernel_id, ENV_CODE))
