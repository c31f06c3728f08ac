"""What the Jupyter server and the kernels agree on: the variables a kernel is started with, the
header its token travels in, the URL paths of this extension, and which values may be shown.

Kernel code (the `kernel` package) imports this module and nothing else of the server's side;
it must stay cheap to import: the standard library only. The sidebar's `labextension/src/api.ts`
repeats API_PATH (a test holds them together).
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

#: Set in every kernel: the name of the group whose binding the kernel carries.
GROUP_VARIABLE = "JUPYTER_MLFLOW_GROUP"
#: Set in every kernel: how it reaches this extension's API (see kernel_tokens.py).
URL_VARIABLE = "JUPYTER_MLFLOW_GROUPS_URL"
TOKEN_VARIABLE = "JUPYTER_MLFLOW_GROUPS_TOKEN"
#: The header a kernel sends its token in.
TOKEN_HEADER = "X-Mlflow-Groups-Token"
#: The server's own bindings file: no business of a kernel's.
FILE_VARIABLE = "JUPYTER_MLFLOW_GROUPS_FILE"

#: The package: the server extension's name (its app in Jupyter's settings) and what IPython
#: kernels load (`--ext=jupyter_mlflow_groups`, which gives them the magics).
EXTENSION_NAME = "jupyter_mlflow_groups"

#: Under the server's base URL: the REST API.
API_PATH = "mlflow-groups/api"
#: Under the server's base URL: a group's MLflow (UI and API) and its local deployments.
GROUPS_PATH = "mlflow-groups/groups"

#: Variables whose values are safe to show in REST responses, widgets, magics and logs.
#: Every other variable of a binding is treated as a secret and only reported as set.
PUBLIC_VARIABLES = frozenset(
    {
        "MLFLOW_TRACKING_USERNAME",
        "MLFLOW_TRACKING_INSECURE_TLS",
        "MLFLOW_TRACKING_SERVER_CERT_PATH",
        "MLFLOW_TRACKING_CLIENT_CERT_PATH",
        "MLFLOW_S3_ENDPOINT_URL",
        "MLFLOW_S3_IGNORE_TLS",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_S3",
        "MLFLOW_HTTP_REQUEST_TIMEOUT",
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES",
    }
)


def mask_uri(uri: str | None) -> str | None:
    """`uri` without the password of its user-info part (`https://u:***@host`)."""
    if not uri:
        return uri
    try:
        parts = urlsplit(uri)
    except ValueError:
        return "***"
    if parts.password is None and "@" not in parts.netloc:
        return uri
    user_info, _, host = parts.netloc.rpartition("@")
    user = user_info.split(":", 1)[0]
    masked_netloc = f"{user}:***@{host}" if ":" in user_info else f"***@{host}"
    return urlunsplit(parts._replace(netloc=masked_netloc))
