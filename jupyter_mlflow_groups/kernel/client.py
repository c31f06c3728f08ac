"""The kernel's client of this extension's REST API (the widgets and magics use it).

A kernel started by a Jupyter server with this extension finds the server's URL and its own
per-kernel token in `JUPYTER_MLFLOW_GROUPS_URL` and `JUPYTER_MLFLOW_GROUPS_TOKEN` (see
kernel_tokens.py). The token is sent in a header of its own, grants this API only, and stops
working when the kernel shuts down. Outside such a kernel, `ServerClient.from_environment()`
raises NotConnected with a message that says so.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import quote, urljoin

from ..contract import API_PATH, GROUP_VARIABLE, TOKEN_HEADER, TOKEN_VARIABLE, URL_VARIABLE


class NotConnected(RuntimeError):
    """No Jupyter server with this extension can be reached from here."""


class ApiFailure(RuntimeError):
    """The server answered with an error: `code`, `message` and `hint` say what and why."""

    def __init__(self, status: int, code: str, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.hint = hint


def kernel_group() -> str | None:
    """The group whose binding this kernel carries (set by the provisioner)."""
    return os.environ.get(GROUP_VARIABLE) or None


def _segment(value: str) -> str:
    return quote(str(value), safe="")


class ServerClient:
    def __init__(self, url: str, token: str, timeout: float = 60.0) -> None:
        import requests  # imported on first use, not at kernel start

        self.url = url if url.endswith("/") else f"{url}/"
        self.timeout = timeout
        self._session = requests.Session()
        self._session.headers[TOKEN_HEADER] = token

    @classmethod
    def from_environment(cls) -> ServerClient:
        url, token = os.environ.get(URL_VARIABLE), os.environ.get(TOKEN_VARIABLE)
        if not url or not token:
            raise NotConnected(
                "This kernel was not started by a Jupyter server with jupyter-mlflow-groups, so "
                "the group's registry cannot be browsed from here (MLflow itself still works "
                "with the environment's MLFLOW_TRACKING_URI)."
            )
        return cls(url, token)

    # -- groups --------------------------------------------------------------------------------

    def groups(self) -> dict[str, Any]:
        return self._request("GET", "groups")

    def set_active(self, group: str) -> dict[str, Any]:
        return self._request("PUT", "active", body={"group": group})

    def status(self, group: str) -> dict[str, Any]:
        return self._request("GET", f"groups/{_segment(group)}/status")

    def kernel_environment(self, group: str) -> dict[str, Any]:
        """What this kernel must unset and set to carry `group`'s binding (secrets included)."""
        return self._request("GET", f"groups/{_segment(group)}/kernel-env")

    def default_group(self) -> str:
        """This kernel's group, else the server's active group for the user."""
        group = kernel_group() or self.groups().get("active")
        if not group:
            raise ApiFailure(
                404,
                "not_configured",
                "You are not in any MLflow group.",
                "Ask an admin to add you to a group.",
            )
        return group

    # -- the registry --------------------------------------------------------------------------

    def models(
        self,
        group: str,
        filter_string: str = "",
        order_by: Iterable[str] = (),
        max_results: int = 25,
        page_token: str | None = None,
        refresh: bool = False,
    ) -> dict[str, Any]:
        params: dict[str, Any] = {"max_results": max_results, "order_by": list(order_by)}
        if filter_string:
            params["filter"] = filter_string
        return self._request(
            "GET", f"groups/{_segment(group)}/models", self._paged(params, page_token, refresh)
        )

    def model(
        self,
        group: str,
        name: str,
        max_results: int = 25,
        page_token: str | None = None,
        refresh: bool = False,
    ) -> dict[str, Any]:
        path = f"groups/{_segment(group)}/models/{_segment(name)}"
        return self._request(
            "GET", path, self._paged({"max_results": max_results}, page_token, refresh)
        )

    def version(self, group: str, name: str, version: str, refresh: bool = False) -> dict[str, Any]:
        path = f"groups/{_segment(group)}/models/{_segment(name)}/versions/{_segment(version)}"
        return self._request("GET", path, {"refresh": "1"} if refresh else None)

    def compare(
        self,
        group: str,
        name: str,
        versions: Sequence[str],
        directions: Mapping[str, str] | None = None,
        refresh: bool = False,
    ) -> dict[str, Any]:
        """Versions side by side; `directions` ({"rmse": "max"}) overrides which way a metric
        is better."""
        params: dict[str, Any] = {
            "versions": ",".join(versions),
            "direction": [f"{key}:{way}" for key, way in (directions or {}).items()],
        }
        if refresh:
            params["refresh"] = "1"
        return self._request(
            "GET", f"groups/{_segment(group)}/models/{_segment(name)}/compare", params
        )

    def run(self, group: str, run_id: str, refresh: bool = False) -> dict[str, Any]:
        """A run as it is now: `status` (RUNNING, FINISHED, ...) and its latest `metrics`."""
        path = f"groups/{_segment(group)}/runs/{_segment(run_id)}"
        return self._request("GET", path, {"refresh": "1"} if refresh else None)

    def metric_history(
        self, group: str, run_id: str, key: str, refresh: bool = False
    ) -> dict[str, Any]:
        path = f"groups/{_segment(group)}/runs/{_segment(run_id)}/metrics/{quote(key, safe='/')}"
        return self._request("GET", path, {"refresh": "1"} if refresh else None)

    def artifacts(
        self, group: str, run_id: str, path: str = "", refresh: bool = False
    ) -> dict[str, Any]:
        """One directory level of a run's artifacts (`path`: the directory, "" the root)."""
        params: dict[str, Any] = {"path": path} if path else {}
        if refresh:
            params["refresh"] = "1"
        route = f"groups/{_segment(group)}/runs/{_segment(run_id)}/artifacts"
        return self._request("GET", route, params or None)

    def artifact(self, group: str, run_id: str, path: str) -> tuple[str, bytes]:
        """A previewable file of a run: how to show it (image, text, json, csv or tsv) and its
        bytes, at most the server's preview limit."""
        route = f"groups/{_segment(group)}/runs/{_segment(run_id)}/artifact"
        response = self._send("GET", route, {"path": path})
        if not response.ok:
            raise _failure(response, f"The server answered {response.status_code}")
        return response.headers.get("X-Artifact-Preview", "text"), response.content

    # -- promotion ----------------------------------------------------------------------------

    def set_alias(
        self, group: str, name: str, alias: str, version: str, reason: str = ""
    ) -> dict[str, Any]:
        """Point `alias` at `version`: `applied` with its `record`, or a `request` an admin
        must approve (a protected alias)."""
        body = {"version": str(version), "reason": reason}
        return self._request("PUT", self._alias_path(group, name, alias), body=body)

    def remove_alias(self, group: str, name: str, alias: str, reason: str = "") -> dict[str, Any]:
        return self._request(
            "DELETE", self._alias_path(group, name, alias), body={"reason": reason}
        )

    def metric_across_versions(
        self, group: str, name: str, key: str, direction: str | None = None
    ) -> dict[str, Any]:
        """`key` in each of the model's latest versions, oldest first, with the best one(s)."""
        path = f"groups/{_segment(group)}/models/{_segment(name)}/metrics/{_segment(key)}"
        return self._request("GET", path, {"direction": direction} if direction else None)

    def changes(self, group: str, after: int | None, wait: int = 0) -> dict[str, Any]:
        """The group's changes after change `after`, waiting up to `wait` seconds for one
        (without `after`: none, and the number to wait from)."""
        params = {"wait": wait, **({"after": after} if after is not None else {})}
        return self._request("GET", f"groups/{_segment(group)}/changes", params)

    def requests(self, group: str, everything: bool = False) -> dict[str, Any]:
        """The group's pending alias requests (every recorded change, with `everything`)."""
        params = {"all": "1"} if everything else None
        return self._request("GET", f"groups/{_segment(group)}/requests", params)

    def decide(
        self, group: str, request_id: str, approve: bool, comment: str = ""
    ) -> dict[str, Any]:
        """An admin approves (the change is made) or rejects a request; the request."""
        action = "approve" if approve else "reject"
        path = f"groups/{_segment(group)}/requests/{_segment(request_id)}/{action}"
        return self._request("POST", path, body={"comment": comment})

    @staticmethod
    def _alias_path(group: str, name: str, alias: str) -> str:
        return f"groups/{_segment(group)}/models/{_segment(name)}/aliases/{_segment(alias)}"

    # -- deployments ---------------------------------------------------------------------------

    def deployments(self, group: str) -> dict[str, Any]:
        return self._request("GET", f"groups/{_segment(group)}/deployments")

    def deployment(self, group: str, name: str) -> dict[str, Any]:
        return self._request("GET", f"groups/{_segment(group)}/deployments/{_segment(name)}")

    def deploy(
        self, group: str, name: str, model: str, version: str, follow: bool = False
    ) -> dict[str, Any]:
        """Start a deployment job; returns the job (poll it with `job`). With `follow` (an
        @alias), the deployment redeploys by itself whenever the alias moves."""
        body = {"name": name, "model": model, "version": str(version), "follow": follow}
        return self._request("POST", f"groups/{_segment(group)}/deployments", body=body)["job"]

    def delete_deployment(self, group: str, name: str) -> dict[str, Any]:
        return self._request("DELETE", f"groups/{_segment(group)}/deployments/{_segment(name)}")

    def stop_deployment(self, group: str, name: str) -> dict[str, Any]:
        """Stop serving (it stays stopped, across Jupyter restarts too); the deployment."""
        path = f"groups/{_segment(group)}/deployments/{_segment(name)}/stop"
        return self._request("POST", path)

    def start_deployment(self, group: str, name: str) -> dict[str, Any]:
        """Serve it again; the deployment, `starting` until its model server answers."""
        path = f"groups/{_segment(group)}/deployments/{_segment(name)}/start"
        return self._request("POST", path)

    def absolute(self, path: str) -> str:
        """A path this server's API gives (an endpoint, an invocations URL) as a full URL on the
        server's address as this kernel reaches it."""
        return urljoin(self.url, path)

    def invoke(self, invocations_url: str, payload: Any) -> Any:
        """Call a local deployment (`invocations_url`: a path on this server, as deployments
        give it) with this kernel's token; the model's answer, parsed."""
        import requests

        url = self.absolute(invocations_url)
        try:
            response = self._session.post(url, json=payload, timeout=self.timeout)
        except requests.RequestException as error:
            raise NotConnected(
                f"The Jupyter server at {self.url} is not reachable: {error.__class__.__name__}"
            ) from None
        if not response.ok:
            raise _failure(response, f"The deployment answered {response.status_code}", True)
        return response.json()

    def job(self, job_id: str) -> dict[str, Any]:
        return self._request("GET", f"jobs/{_segment(job_id)}")

    def cancel_job(self, job_id: str) -> dict[str, Any]:
        return self._request("DELETE", f"jobs/{_segment(job_id)}")

    # -- plumbing ------------------------------------------------------------------------------

    @staticmethod
    def _paged(params: dict[str, Any], page_token: str | None, refresh: bool) -> dict[str, Any]:
        if page_token:
            params["page_token"] = page_token
        if refresh:
            params["refresh"] = "1"
        return params

    def _request(
        self, method: str, path: str, params: dict[str, Any] | None = None, body: Any = None
    ) -> Any:
        response = self._send(method, path, params, body)
        if response.ok:
            try:
                return response.json()
            except ValueError:
                return None
        raise _failure(response, f"The server answered {response.status_code}")

    def _send(
        self, method: str, path: str, params: dict[str, Any] | None = None, body: Any = None
    ) -> Any:
        import requests

        try:
            return self._session.request(
                method,
                f"{self.url}{API_PATH}/{path}",
                params=params,
                json=body,
                timeout=self.timeout,
            )
        except requests.RequestException as error:
            raise NotConnected(
                f"The Jupyter server at {self.url} is not reachable: {error.__class__.__name__}"
            ) from None


def _failure(response: Any, fallback: str, with_text: bool = False) -> ApiFailure:
    """The error an answer carries (this API's `{"error": {...}}`; MLflow's model server's
    `{"message"}`), else `fallback` (with the start of the answer's text: a model's own)."""
    try:
        payload = response.json()
    except ValueError:
        payload = None
    body = payload if isinstance(payload, dict) else {}
    error = body.get("error") if isinstance(body.get("error"), dict) else {}
    if response.status_code == 403 and error.get("code") == "unauthenticated":
        return ApiFailure(
            403,
            "forbidden",
            "The server did not accept this kernel's token.",
            "Restart the kernel: its token is renewed at each start.",
        )
    message = error.get("message") or body.get("message")
    if not message:
        text = " ".join(response.text.split())[:300] if with_text else ""
        message = f"{fallback}: {text}" if text else fallback
    return ApiFailure(
        response.status_code,
        error.get("code") or body.get("error_code") or "error",
        message,
        error.get("hint", ""),
    )
