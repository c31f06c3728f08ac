"""Deploy to (or delete from) any `mlflow.deployments` target, with the group's environment.

    python -m jupyter_mlflow_groups.deploy.publish < {"target", "action", "name", "model_uri"}

Prints `{"endpoint": ...}` on success; on failure, one line on stderr and a non-zero exit.
"""

from __future__ import annotations

import json
import sys
from typing import Any


def _endpoint(info: Any) -> str | None:
    if isinstance(info, dict):
        for key in ("endpoint", "url", "endpoint_url", "uri"):
            if info.get(key):
                return str(info[key])
    return None


def _exists(client: Any, name: str) -> bool:
    """Whether the target has a deployment `name`. Asked with `get_deployment`, which raises
    for an unknown name (the plugins' contract): `list_deployments` items differ from target
    to target (SageMaker's name `EndpointName`, not `name`)."""
    try:
        client.get_deployment(name)
    except Exception:
        return False
    return True


def main() -> int:
    request = json.load(sys.stdin)
    try:
        from mlflow.deployments import get_deploy_client

        client = get_deploy_client(request["target"])
        name = request["name"]
        if request["action"] == "delete":
            client.delete_deployment(name)
            print(json.dumps({"endpoint": None}))
            return 0
        if _exists(client, name):
            client.update_deployment(name, model_uri=request["model_uri"])
        else:
            client.create_deployment(name, request["model_uri"])
        print(json.dumps({"endpoint": _endpoint(client.get_deployment(name))}))
        return 0
    except Exception as error:  # one line for the server, never a traceback
        print(
            f"{error.__class__.__name__}: {str(error).splitlines()[0] if str(error) else ''}",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
