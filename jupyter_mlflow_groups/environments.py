"""What each process the extension starts may see of the Jupyter server's environment.

The server's environment holds what no child needs and some must never see: every group's
`${env:...}` secrets and Jupyter's own token (with it, a kernel would reach all of Jupyter's
API, not only this extension's). So:

- a **kernel** gets the server's environment (users' tools expect their PATH, conda, proxies,
  the Hub's per-user token) minus every variable a binding references, minus Jupyter's token
  and every variable holding its value, plus its group's binding;
- the **servers and workers we run** (managed MLflow, model servers, copy workers) get only what
  a program needs to run as this account (`child_environment`), plus what their job needs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

#: What any program needs to run as this account: paths, locale, time zone, temporary
#: directories, the Python it runs on, TLS trust. Nothing here is a credential.
_CHILD_VARIABLES = frozenset(
    {
        "PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "TZ",
        "TMPDIR", "TEMP", "TMP", "VIRTUAL_ENV", "CONDA_PREFIX", "LD_LIBRARY_PATH",
        "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "AWS_CA_BUNDLE",
        "JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR",
    }
)  # fmt: skip
_CHILD_PREFIXES = ("LC_", "PYTHON")
#: How a process reaches remote stores through the host's proxy (the copy worker does).
NETWORK_VARIABLES = frozenset(
    {"HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy"}
)
#: Jupyter's own credentials: never in a kernel (the Hub's per-user token stays: users'
#: tools expect it, and it is scoped to them).
JUPYTER_TOKEN_VARIABLES = frozenset({"JUPYTER_TOKEN", "JUPYTER_TOKEN_FILE", "JUPYTER_PASSWORD"})
HUB_TOKEN_VARIABLES = frozenset({"JUPYTERHUB_API_TOKEN", "JPY_API_TOKEN"})


def child_environment(server_env: Mapping[str, str], extra: Iterable[str] = ()) -> dict[str, str]:
    """The part of the server's environment a child server or worker may have."""
    allowed = _CHILD_VARIABLES | set(extra)
    return {
        name: value
        for name, value in server_env.items()
        if name in allowed or name.startswith(_CHILD_PREFIXES)
    }


def without_server_secrets(
    env: Mapping[str, str], referenced: Iterable[str], server_tokens: Iterable[str]
) -> dict[str, str]:
    """`env` (a kernel's, before its binding is set) without the variables bindings reference
    and without Jupyter's token, by name or by value."""
    tokens = {token for token in server_tokens if token}
    dropped = set(referenced) | JUPYTER_TOKEN_VARIABLES
    return {
        name: value
        for name, value in env.items()
        if name not in dropped and (name in HUB_TOKEN_VARIABLES or value not in tokens)
    }
