"""The error vocabulary every front shows: a code, a message, and what to do about it."""

from __future__ import annotations

#: What a person can do about each class of MLflow failure.
HINTS = {
    "not_configured": "Ask your group admin to bind this group to an MLflow server.",
    "unreachable": "Check that the MLflow server is running and that this machine can reach it.",
    "timeout": "The MLflow server did not answer in time: it may be overloaded or hung.",
    "tls": "The server's TLS certificate was not accepted: ask your admin for the CA certificate "
    "(MLFLOW_TRACKING_SERVER_CERT_PATH).",
    "unauthorized": "MLflow refused the group's credentials: ask your group admin to check the "
    "username and password, or the token, of the binding.",
    "forbidden": "MLflow accepted the credentials but refused access: ask your MLflow admin for "
    "permission.",
    "not_found": "Check the name: the group's MLflow server does not know it.",
    "bad_request": "Check the request: MLflow's message says what it could not accept.",
    "mlflow_error": "The MLflow server answered with an error; its message says more.",
    # A deployment's copy job (its `error`): nothing of the previous deployment was changed.
    "unsafe_source": "The version's artifacts point outside what the group's store may serve "
    "(a link, another host, an unexpected size): ask your group admin to check the store, or "
    "allow its host in the binding's deploy.download_hosts.",
    "unsafe_path": "A file or folder on the way is not what the extension expects (a symbolic "
    "link, or a folder it did not create): choose another deployment name, or ask your admin.",
    "not_a_model": "Register a version logged as an MLflow model (with its MLmodel file).",
    "disk_full": "Free space in the deployments' folder (or ask your admin to), then deploy again.",
    "storage": "The artifact store refused or failed the download: check the group's storage "
    "credentials and that the files still exist.",
    "killed": "The copy was stopped from outside (out of memory, or killed): deploy again.",
}


#: The status our REST API answers with when MLflow fails. MLflow's own 401/403 become 502:
#: the group's credentials were refused, not the user's session with Jupyter.
HTTP_STATUS = {
    "not_configured": 503,
    "unreachable": 502,
    "timeout": 504,
    "tls": 502,
    "unauthorized": 502,
    "forbidden": 502,
    "not_found": 404,
    "bad_request": 400,
    "mlflow_error": 502,
}


#: Shapes of answers that show the URL is not (only) MLflow's API: a parse error, a wrong type.
#: Failures of the connection itself: a read that meets one fails, whatever else it could skip.
CONNECTION_FAILURES = frozenset({"timeout", "unreachable", "tls", "unauthorized"})
SHAPE_ERRORS = (KeyError, IndexError, TypeError, AttributeError, ValueError, OverflowError)


def not_mlflow_api(where: str, path: str, what: str) -> str:
    """The message for an answer that is not MLflow's API (a web page, cut-short or misshapen
    JSON): the same words on every front, in the server and in the copy worker."""
    return (
        f"{where} answered {path} with {what}, not MLflow's API: is the tracking URI the MLflow "
        "tracking server's (and not a proxy's or a login page's)?"
    )


class MlflowError(Exception):
    """A classified failure talking to a group's MLflow (codes as in HINTS)."""

    def __init__(
        self, code: str, message: str, status: int | None = None, hint: str | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status  # the HTTP status MLflow answered with, when it answered
        self._hint = hint

    @property
    def hint(self) -> str:
        """What to do: said for this failure, else the class's (HINTS)."""
        return self._hint if self._hint is not None else HINTS.get(self.code, "")


class ApiError(Exception):
    """An error a REST handler reports as `{"error": {"code", "message", "hint"}}` with
    `status`: what happened, about which object, and what to do."""

    def __init__(self, status: int, code: str, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.hint = hint


class Stopping(ApiError):
    """New work refused because the extension has stopped: nothing starts after its server."""

    def __init__(self, what: str) -> None:
        super().__init__(
            503,
            "stopping",
            f"The Jupyter server is stopping: {what} is not started any more.",
            "Try again once the Jupyter server has started again.",
        )
