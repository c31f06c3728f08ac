"""A real JupyterHub: the Hub from PyPI, configurable-http-proxy from npm, the dummy
authenticator and the simple local process spawner, each user's server being
`jupyterhub-singleuser` with this extension, as a pip install ships it.

The tests drive it like an admin script would: a service token manages users, groups and
servers over the Hub's REST API; each user's requests carry a token of their own.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from .jupyter import JupyterClient
from .processes import ChildProcess, free_port

ROOT = Path(__file__).resolve().parents[2]  # the repository
PROXY_INSTALL = "npm install --prefix .venv/chp configurable-http-proxy@5 (scripts/test does it)"


def proxy_command() -> str:
    """configurable-http-proxy as scripts/test installs it (or from PATH)."""
    installed = ROOT / ".venv" / "chp" / "node_modules" / ".bin" / "configurable-http-proxy"
    found = str(installed) if installed.exists() else shutil.which("configurable-http-proxy")
    if found is None:
        raise RuntimeError(f"configurable-http-proxy is not installed: {PROXY_INSTALL}")
    return found


class JupyterHubProcess(ChildProcess):
    program = "jupyterhub"
    grace = 60  # on SIGTERM, the Hub stops users' servers

    def __init__(
        self,
        root: Path,
        groups: dict[str, list[str]],
        environment: dict[str, str],
        server_args: tuple[str, ...] = (),
    ):
        """`groups`: Hub group -> user names (the users are these); `environment`: what every
        user's server gets besides the Hub's own variables; `server_args`: more options of
        every user's server."""
        self.root = root
        self.url = f"http://127.0.0.1:{free_port()}"
        self.service_token = uuid.uuid4().hex
        super().__init__(root / "jupyterhub.log")
        users = sorted({user for members in groups.values() for user in members})
        config = {
            "bind_url": self.url,
            "hub_bind_url": f"http://127.0.0.1:{free_port()}",
            "proxy_api_url": f"http://127.0.0.1:{free_port()}",
            "proxy_command": [proxy_command()],
            "users": users,
            "groups": {name: {"users": members} for name, members in groups.items()},
            "service_token": self.service_token,
            "singleuser": [str(Path(sys.executable).parent / "jupyterhub-singleuser")],
            "environment": environment,
            "server_args": ["--allow-root", *server_args],
        }
        root.mkdir(parents=True, exist_ok=True)
        (root / "settings.json").write_text(json.dumps(config))
        (root / "jupyterhub_config.py").write_text(_CONFIG)

    def start(self, timeout: float = 90) -> JupyterHubProcess:
        env = {
            **os.environ,
            # users' servers and kernels find this venv's programs first
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        }
        self.spawn(
            [sys.executable, "-m", "jupyterhub", "-f", "jupyterhub_config.py"],
            env=env,
            cwd=self.root,
        )
        self.wait_until_ready(lambda: self.api("GET", "/"), timeout)
        return self

    def api(self, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
        """The Hub's REST API (`/hub/api` + path), as the admin service or with `token`."""
        client = JupyterClient(f"{self.url}/hub/api", token or self.service_token)
        return client.request(method, path, body)

    def start_server(self, user: str, timeout: float = 120) -> JupyterClient:
        """Start `user`'s server and return a client for it, authenticated as `user`."""
        self.api("POST", f"/users/{user}/server")
        return self.until_ready(user, timeout)

    def until_ready(self, user: str, timeout: float = 120) -> JupyterClient:
        """A client for `user`'s server, authenticated as `user`, once the Hub says it is
        ready."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            model = self.api("GET", f"/users/{user}")
            server = model["servers"].get("", {})
            if server.get("ready"):
                token = self.api("POST", f"/users/{user}/tokens", {"note": "tests"})["token"]
                return JupyterClient(f"{self.url}/user/{user}", token)
            if not model.get("pending") and not server:
                raise RuntimeError(f"{user}'s server failed to start: {self.log_tail()}")
            time.sleep(0.3)
        raise RuntimeError(f"{user}'s server not ready in {timeout} s: {self.log_tail()}")

    def set_groups(self, user: str, joined: list[str], left: list[str]) -> None:
        for group in joined:
            self.api("POST", f"/groups/{group}/users", {"users": [user]})
        for group in left:
            self.api("DELETE", f"/groups/{group}/users", {"users": [user]})


# The Hub's config reads its settings from settings.json, next to it.
_CONFIG = """
import json
from pathlib import Path

settings = json.loads(Path("settings.json").read_text())
home = Path("home").resolve()

c.JupyterHub.bind_url = settings["bind_url"]
c.JupyterHub.hub_bind_url = settings["hub_bind_url"]
c.ConfigurableHTTPProxy.api_url = settings["proxy_api_url"]
c.ConfigurableHTTPProxy.command = settings["proxy_command"]
c.JupyterHub.db_url = "sqlite:///jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = "jupyterhub_cookie_secret"
c.JupyterHub.cleanup_servers = True

c.JupyterHub.authenticator_class = "dummy"
c.Authenticator.allowed_users = set(settings["users"])
c.JupyterHub.load_groups = settings["groups"]

c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = str(home / "{username}")
c.Spawner.cmd = settings["singleuser"]
c.Spawner.args = settings["server_args"]
c.Spawner.environment = settings["environment"]
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120

c.JupyterHub.services = [{"name": "tests", "api_token": settings["service_token"]}]
c.JupyterHub.load_roles = [
    {
        "name": "tests",
        "scopes": ["admin:users", "admin:groups", "admin:servers", "tokens", "access:servers"],
        "services": ["tests"],
    }
]
"""
