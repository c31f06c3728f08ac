"""The OpenAPI description the package ships, read as the tests check it."""

from __future__ import annotations

from pathlib import Path

import yaml

import jupyter_mlflow_groups

SHIPPED = Path(jupyter_mlflow_groups.__file__).parent / "openapi.yaml"
METHODS = ("get", "post", "put", "delete", "patch")


def shipped_description() -> dict:
    return yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))


def described_operations(description: dict) -> set[tuple[str, str]]:
    """(path template, method) of every operation the description has."""
    return {
        (path, method)
        for path, item in description["paths"].items()
        for method in item
        if method in METHODS
    }
