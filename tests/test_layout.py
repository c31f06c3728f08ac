"""The package shows its process boundary: kernel code imports nothing of the server's side.

import-linter checks the contract written in pyproject.toml; this module runs it and checks that
the contract names every module of the server's side, so a new one cannot slip past it.
"""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import jupyter_mlflow_groups

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: pytest's own TOML reader
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
#: Modules of the package that are not the server's side: kernel code, the contract both
#: sides share, and the two old import paths kept for users' notebooks.
NOT_SERVER = {"kernel", "contract", "widgets", "client"}


def kernel_contract() -> dict:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    (contract,) = config["tool"]["importlinter"]["contracts"]
    return contract


def test_the_import_contracts_hold():
    linter = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(linter), "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


def test_the_contract_forbids_every_module_of_the_servers_side():
    contract = kernel_contract()
    assert contract["source_modules"] == [
        "jupyter_mlflow_groups.kernel",
        "jupyter_mlflow_groups.contract",
    ]
    modules = {info.name for info in pkgutil.iter_modules(jupyter_mlflow_groups.__path__)}
    assert modules >= NOT_SERVER
    forbidden = set(contract["forbidden_modules"])
    missing = {f"jupyter_mlflow_groups.{name}" for name in modules - NOT_SERVER} - forbidden
    assert not missing, f"add to pyproject.toml's kernel contract: {sorted(missing)}"


def test_the_old_import_paths_are_the_kernel_packages_objects():
    from jupyter_mlflow_groups import client, kernel, widgets

    assert widgets.ModelBrowser is kernel.widgets.ModelBrowser
    assert widgets.DeployPanel is kernel.widgets.DeployPanel
    assert client.ServerClient is kernel.client.ServerClient


def test_the_sidebar_calls_the_api_path_of_the_contract():
    from jupyter_mlflow_groups.contract import API_PATH

    api = (ROOT / "labextension" / "src" / "api.ts").read_text()
    assert f"const API = '{API_PATH}';" in api


def _imported_top_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_tests_share_code_only_through_the_support_package():
    """No test module, conftest or benchmark imports a test module or a conftest: what they
    share lives in tests/support/."""
    tests = ROOT / "tests"
    test_modules = {
        path.stem for path in tests.rglob("*.py") if path.name.startswith(("test_", "conftest"))
    } | {"ui"}
    importers = [*tests.rglob("*.py"), *(ROOT / "benchmarks").glob("*.py")]
    offenders = {
        str(path.relative_to(ROOT)): sorted(_imported_top_names(path) & test_modules)
        for path in importers
        if "upstream" not in path.parts
    }
    assert {path: names for path, names in offenders.items() if names} == {}
    loose = {
        path.name
        for path in tests.glob("*.py")
        if not path.name.startswith(("test_", "conftest")) and path.name != "binder_check.py"
    }
    assert loose == set(), "helpers of the tests belong in tests/support/"
