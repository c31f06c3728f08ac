"""pytest plugin for running Jupyter Server's and jupyter_client's own tests (from their
sdists) with or without this extension. tests/test_upstream_suites.py loads it with
`-p mlflow_groups_upstream_plugin`, with this folder on PYTHONPATH.

MLFLOW_GROUPS_UPSTREAM_MODE:

- `baseline`: nothing of ours is imported or enabled; only kernel launches are recorded.
- `extension`: the extension is enabled in every Jupyter server that a test starts, as
  `pip install` enables it: the file pip installed into `{sys.prefix}/etc/jupyter/
  jupyter_server_config.d/` is copied into the same place of the isolated environment that
  pytest-jupyter gives each test (its `jp_env_config_path`, which replaces `{sys.prefix}/etc/
  jupyter`). Linking the extension then makes our provisioner the default, as for a user.
  With MLFLOW_GROUPS_UPSTREAM_DEFAULT_PROVISIONER=1 (jupyter_client's tests: kernel managers
  without any Jupyter server) our provisioner is made the default through jupyter_client's own
  `JUPYTER_DEFAULT_PROVISIONER_NAME`.

Every kernel that a LocalProvisioner (ours is one) launches is written as a JSON line to
MLFLOW_GROUPS_UPSTREAM_LAUNCHES: the test, the provisioner's class, the provisioner the
kernelspec asked for, the command line, whether a Jupyter server owns the kernel manager, whether
that server loaded our extension and, in `extension` mode, whether our provisioner found the
extension's service there. The runner checks from it that
each kernel that got the default provisioner got ours.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from pathlib import Path
from typing import Any

import jupyter_core.paths
import pytest
from jupyter_client.provisioning.local_provisioner import LocalProvisioner

MODE = os.environ.get("MLFLOW_GROUPS_UPSTREAM_MODE", "")
LAUNCHES = os.environ.get("MLFLOW_GROUPS_UPSTREAM_LAUNCHES", "")
CONFIG_NAME = "jupyter_mlflow_groups.json"
CONFIG_D = "jupyter_server_config.d"
PROVISIONER_NAME = "mlflow-groups-provisioner"

_current_test = ""
_write_lock = threading.Lock()


def _installed_config() -> Path:
    """The file `pip install` put into `{sys.prefix}/etc/jupyter/jupyter_server_config.d/`
    (read before pytest-jupyter points that path at a temporary folder)."""
    for directory in jupyter_core.paths.ENV_CONFIG_PATH:
        candidate = Path(directory) / CONFIG_D / CONFIG_NAME
        if candidate.is_file():
            return candidate
    raise pytest.UsageError(
        f"{CONFIG_D}/{CONFIG_NAME} is not installed in {jupyter_core.paths.ENV_CONFIG_PATH}: "
        "install jupyter-mlflow-groups with pip first"
    )


if MODE not in ("baseline", "extension"):
    raise pytest.UsageError("MLFLOW_GROUPS_UPSTREAM_MODE must be 'baseline' or 'extension'")
INSTALLED_CONFIG = _installed_config() if MODE == "extension" else None
if MODE == "extension" and os.environ.get("MLFLOW_GROUPS_UPSTREAM_DEFAULT_PROVISIONER") == "1":
    os.environ["JUPYTER_DEFAULT_PROVISIONER_NAME"] = PROVISIONER_NAME
elif MODE == "baseline":
    os.environ.pop("JUPYTER_DEFAULT_PROVISIONER_NAME", None)


@pytest.fixture(autouse=True)
def _mlflow_groups_enabled_as_installed(jp_env_config_path: Path) -> None:
    if INSTALLED_CONFIG is not None:
        target = Path(jp_env_config_path) / CONFIG_D
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(INSTALLED_CONFIG, target / CONFIG_NAME)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Each test's node id goes into the junit XML (its classname and name are ambiguous)."""
    for item in items:
        item.user_properties.append(("nodeid", item.nodeid))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Any:
    global _current_test
    _current_test = item.nodeid
    try:
        yield
    finally:
        _current_test = ""


def _server_of(owner: Any) -> Any:
    while owner is not None and type(owner).__name__ != "ServerApp":
        owner = getattr(owner, "parent", None)
    return owner


def _record(provisioner: Any, cmd: list[str]) -> None:
    spec = provisioner.kernel_spec
    metadata = getattr(spec, "metadata", None) or {}
    server = _server_of(provisioner.parent)
    entry: dict[str, Any] = {
        "test": _current_test,
        "provisioner": f"{type(provisioner).__module__}.{type(provisioner).__qualname__}",
        "spec_provisioner": (metadata.get("kernel_provisioner") or {}).get("provisioner_name"),
        "kernel_name": getattr(provisioner.parent, "kernel_name", None),
        "language": getattr(spec, "language", None),
        "cmd": [str(part) for part in cmd],
        "server": server is not None,
        # the server's extensions (read without importing ours)
        "our_extension": server is not None
        and "jupyter_mlflow_groups" in getattr(server.extension_manager, "extensions", {}),
        "service": None,
    }
    if MODE == "extension" and server is not None:
        from jupyter_mlflow_groups.provisioner import find_service

        entry["service"] = find_service(provisioner.parent) is not None
    if LAUNCHES:
        with _write_lock, open(LAUNCHES, "a", encoding="utf-8") as out:
            out.write(json.dumps(entry) + "\n")


_original_launch = LocalProvisioner.launch_kernel


async def _recording_launch(self: LocalProvisioner, cmd: list[str], **kwargs: Any) -> Any:
    _record(self, cmd)
    return await _original_launch(self, cmd, **kwargs)


LocalProvisioner.launch_kernel = _recording_launch  # type: ignore[method-assign]
