"""What every sub-command uses: the REST client, how problems and links are shown, and
which variables may be shown."""

from __future__ import annotations

import os
import sys
from collections.abc import Set as AbstractSet
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..client import ServerClient

NO_SERVER = "No Jupyter server with jupyter-mlflow-groups is reachable."
#: Variables whose values `env` and the overview may show (through mask_uri), besides
#: contract.PUBLIC_VARIABLES. Every other value is a possible secret: shown as set, never read.
SHOWN_VARIABLES = frozenset(
    {"MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI", "MLFLOW_WORKSPACE", "JUPYTER_MLFLOW_GROUP"}
)
#: Prefixes of the variables `env` lists, besides the names the group's binding sets.
LISTED_PREFIXES = ("MLFLOW_", "AWS_", "JUPYTER_MLFLOW_")
HIDDEN = "*** (set, not shown)"


def server_client() -> ServerClient:
    from ..client import ServerClient

    return ServerClient.from_environment()


def say(message: str, hint: str = "") -> None:
    """A problem or warning, and what to do about it (stderr: notebooks show it apart)."""
    print(message, file=sys.stderr)
    if hint:
        print(f"What to do: {hint}", file=sys.stderr)


def mask(value: str | None) -> str:
    from ...contract import mask_uri

    return mask_uri(value) or "—"


def print_environment(title: str, extra: AbstractSet[str] = frozenset()) -> None:
    from ...contract import PUBLIC_VARIABLES

    names = sorted(name for name in os.environ if name.startswith(LISTED_PREFIXES) or name in extra)
    print(title)
    if not names:
        print("  (no MLflow variable is set)")
    width = max((len(name) for name in names), default=0)
    for name in names:
        public = name in PUBLIC_VARIABLES or name in SHOWN_VARIABLES
        print(f"  {name:<{width}}  {mask(os.environ[name]) if public else HIDDEN}")


def show_link(url: str, text: str) -> None:
    """A link the notebook shows as such (the API's links are paths on this Jupyter server:
    the browser resolves them, wherever Jupyter runs)."""
    from IPython.display import display

    from ..widgets.common import link

    display({"text/html": link(url, text), "text/plain": f"{text}: {url}"}, raw=True)
