"""The `%mlflow_group` sub-commands: parsing a line, and doing what it asks.

Imported by the magic on its first use, not when a kernel loads the extension
(`magics.py`), so that loading costs a kernel next to nothing. The REST client (requests),
pandas and the widgets are imported when a sub-command needs them, and MLflow never is.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from IPython.core.error import UsageError

from . import deployments, group, promotion, registry
from .common import NO_SERVER, print_environment, say
from .parsing import BadUsage, parse

#: Every sub-command by name (`overview`: the magic alone).
SUBCOMMANDS: dict[str, Callable[[argparse.Namespace], Any]] = {
    **group.SUBCOMMANDS,
    **registry.SUBCOMMANDS,
    **promotion.SUBCOMMANDS,
    **deployments.SUBCOMMANDS,
}


def run(line: str) -> Any:
    """What `%mlflow_group LINE` does: a usage error for IPython to show, or the command's
    result (a DataFrame, for the tables); the server's answers printed as what to do."""
    try:
        parsed = parse(line)
    except BadUsage as bad:
        print(bad.usage, end="", file=sys.stderr)
        raise UsageError(bad.message) from None
    if parsed is None:
        return None
    command, args = parsed
    from ..client import ApiFailure, NotConnected

    try:
        return SUBCOMMANDS[command or "overview"](args)
    except NotConnected as error:
        print(f"{NO_SERVER} {error}")
        print_environment("This kernel's MLflow environment:")
    except ApiFailure as error:
        say(error.message, error.hint)
    return None
