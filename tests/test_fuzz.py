"""Fuzzing every operation of the published OpenAPI description with schemathesis, against a
real `jupyter server` process with the extension, bound to a real seeded MLflow server.

Checks on every response: no 5xx but the documented MLflow ones (502/503/504 from groups bound
to a dead or unusable MLflow), the status code and body conform to the description (errors in
the `{"error": {"code", "message", "hint"}}` shape), invalid input is refused with a 4xx, and
every request is answered within REQUEST_TIMEOUT (a hang fails the test). Deterministic:
hypothesis is derandomized and the number of examples bounded.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import requests
import schemathesis
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.schemas import APIOperation
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)
from support.jupyter import JupyterServerProcess
from support.openapi import SHIPPED, described_operations, shipped_description
from support.seeding import SeededRegistry

from jupyter_mlflow_groups.contract import TOKEN_HEADER
from jupyter_mlflow_groups.handlers import API

EXAMPLES_PER_OPERATION = 25
REQUEST_TIMEOUT = 20.0  # seconds: a request not answered by then is a hang
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
AUTH_HEADERS = ("Authorization", TOKEN_HEADER)
#: Groups the fuzzer may name: bound to the seeded server, foreign, unusable, and unreachable.
GROUPS = ("team-a", "others", "broken", "dead")
#: 5xx the description documents for a group whose MLflow is down, unusable or slow.
MLFLOW_FAILURES = {502, 503, 504}


@pytest.fixture(scope="module")
def fuzzed_server(
    seeded: SeededRegistry,
    mlflow_servers: SimpleNamespace,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[JupyterServerProcess]:
    home = tmp_path_factory.mktemp("fuzz")
    bindings = home / "bindings.yaml"
    groups = {
        "team-a": {"tracking_uri": mlflow_servers.plain.url, "members": ["alice"]},
        "others": {"tracking_uri": "http://others.invalid", "members": ["bob"]},
        "broken": {"tracking_uri": "ftp://broken.invalid", "members": ["alice"]},
        "dead": {"tracking_uri": "http://127.0.0.1:9", "members": ["alice"]},
    }
    bindings.write_text(yaml.safe_dump({"default_group": "team-a", "groups": groups}))
    server = JupyterServerProcess(
        home,
        env={"JUPYTER_MLFLOW_GROUPS_FILE": str(bindings)},
        args=[
            "--MlflowGroupsApp.user=alice",
            f"--MlflowGroupsApp.state_dir={home / 'state'}",
            f"--MlflowGroupsApp.groups_root={home / 'groups'}",
            "--MlflowGroupsApp.status_timeout=3",
            "--MlflowGroupsApp.request_timeout=10",
        ],
    ).start()
    try:
        yield server
    finally:
        server.stop()


class Fuzzer:
    """Sends generated cases to the server, checks each answer, and counts what it tried."""

    def __init__(self, server: JupyterServerProcess, real: dict[str, tuple[str, ...]]) -> None:
        self.base_url = f"{server.url}{API}"
        self.headers = {"Authorization": f"token {server.token}"}
        self.real = real
        self.session = requests.Session()
        self.by_operation: dict[str, int] = {}
        self.by_status: dict[int, int] = {}

    def fuzz(self, operation: APIOperation, mode: GenerationMode) -> None:
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(generation_mode=mode), data=st.data())
        def run(case: Case, data: st.DataObject) -> None:
            self.try_case(case, data, mode)

        try:
            run()
        except Unsatisfiable:
            # Only NEGATIVE mode can be: an operation without inputs, or whose only inputs are
            # free strings, has no invalid input to make.
            assert mode is GenerationMode.NEGATIVE, operation.label

    def try_case(self, case: Case, data: st.DataObject, mode: GenerationMode) -> None:
        # The credentials are ours (refusals are test_auth.py's subject), not generated ones.
        for header in AUTH_HEADERS:
            (case.headers or {}).pop(header, None)
        # Half the time, name things that exist, so real answers get checked too.
        for name, values in self.real.items():
            if name in (case.path_parameters or {}) and data.draw(st.booleans()):
                case.path_parameters[name] = data.draw(st.sampled_from(values))
        response = case.call(
            base_url=self.base_url,
            session=self.session,
            headers=self.headers,
            timeout=REQUEST_TIMEOUT,
        )
        self.count(case.operation.label, response.status_code)
        checks = list(CHECKS)
        if mode is GenerationMode.NEGATIVE:
            checks.append(negative_data_rejection)
        if response.status_code in MLFLOW_FAILURES:  # documented, and in the error shape
            checks.remove(not_a_server_error)
        case.validate_response(response, checks=checks, headers=self.headers)

    def count(self, label: str, status: int) -> None:
        self.by_operation[label] = self.by_operation.get(label, 0) + 1
        self.by_status[status] = self.by_status.get(status, 0) + 1

    def report(self) -> dict[str, Any]:
        return {
            "cases": sum(self.by_operation.values()),
            "by_status": dict(sorted(self.by_status.items())),
            "by_operation": self.by_operation,
        }


def test_every_operation_survives_fuzzing(
    fuzzed_server: JupyterServerProcess, seeded: SeededRegistry, tmp_path: Path
):
    # The shipped file (test_openapi.py proves the server serves exactly it): loaded from the
    # URL, schemathesis would leave out the operation that serves the description itself.
    schema = schemathesis.openapi.from_path(str(SHIPPED))
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == len(described_operations(shipped_description()))
    fuzzer = Fuzzer(
        fuzzed_server,
        {
            "group": GROUPS,
            "name": (*seeded.model_names[:3], "it's a model"),
            "version": ("1", "2", "@champion", "0"),
            "run_id": (seeded.history_run,),
            "key": ("loss", "train/loss"),
        },
    )
    for operation in operations:
        fuzzer.fuzz(operation, GenerationMode.POSITIVE)
        fuzzer.fuzz(operation, GenerationMode.NEGATIVE)

    report = fuzzer.report()
    print(f"\nfuzzing: {json.dumps(report, indent=1)}")
    (tmp_path / "fuzz-cases.json").write_text(json.dumps(report))
    assert 500 not in fuzzer.by_status
    assert set(fuzzer.by_operation) == {operation.label for operation in operations}
