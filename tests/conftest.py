from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from jupyter_client.provisioning import KernelProvisionerFactory
from support.bindings import BindingsFile
from support.hub import JupyterHubProcess
from support.jupyter import JupyterClient
from support.lab import LAB_PAGE_CONFIG
from support.processes import free_port
from support.seeding import (
    COMPARED_MODEL,
    SeededPreviews,
    SeededRegistry,
    seed_comparison,
    seed_previews,
    seed_registry,
)
from support.servers import (
    MlflowServer,
    MotoS3,
    SilentServer,
    TlsFront,
    prepare_auth_server,
    start_mlflow,
    wait_until_healthy,
)
from support.upstream import RESULTS_TEST, UPSTREAM_RUNS, begin_early

pytest_plugins = ["pytest_jupyter.jupyter_server"]

OWNER = "alice"


@pytest.fixture(scope="session")
def mlflow_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:
    """A plain MLflow server and a basic-auth one with workspaces, started side by side."""
    root = tmp_path_factory.mktemp("mlflow")
    plain = start_mlflow(root / "plain")
    auth = start_mlflow(root / "auth", basic_auth=True, workspaces=True)
    try:
        wait_until_healthy(plain)
        wait_until_healthy(auth)
        prepare_auth_server(auth)
        yield SimpleNamespace(plain=plain, auth=auth)
    finally:
        plain.stop()
        auth.stop()


@pytest.fixture(scope="session")
def seeded(mlflow_servers: SimpleNamespace) -> SeededRegistry:
    """The plain server's registry: 263 models (20 with 3 versions), runs, a 1,000-step history."""
    return seed_registry(
        mlflow_servers.plain.url, models=260, versions_per_model=3, multi_version_models=20
    )


@pytest.fixture(scope="session")
def deploy_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    """A plain MLflow server of its own for deployment tests: they register versions freely."""
    server = start_mlflow(tmp_path_factory.mktemp("mlflow-deploy"))
    try:
        wait_until_healthy(server)
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def compared(deploy_server: MlflowServer) -> str:
    """A model of three differing versions (support.seeding.COMPARED_RUNS) on deploy_server,
    whose registry no test counts whole."""
    seed_comparison(deploy_server.url)
    return COMPARED_MODEL


@pytest.fixture(scope="session")
def previews(
    deploy_server: MlflowServer, tmp_path_factory: pytest.TempPathFactory
) -> SeededPreviews:
    """A version (support.seeding.PREVIEWED_MODEL on deploy_server) whose run logged files to
    preview, through the proxied artifact store; and a run with the same files in a plain local
    artifact directory."""
    return seed_previews(deploy_server.url, str(tmp_path_factory.mktemp("local-artifacts")))


@pytest.fixture(scope="session")
def sklearn_model(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, list[list[float]], list[int]]:
    """A real scikit-learn model saved in MLflow's format, rows to score, and its predictions."""
    import mlflow.sklearn
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    features, labels = load_iris(return_X_y=True)
    model = LogisticRegression(max_iter=500).fit(features, labels)
    directory = tmp_path_factory.mktemp("sklearn") / "model"
    mlflow.sklearn.save_model(model, str(directory))
    rows = features[::30].tolist()
    return directory, rows, model.predict(features[::30]).tolist()


@pytest.fixture(scope="session")
def moto_s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoS3]:
    server = MotoS3(tmp_path_factory.mktemp("moto"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def hub(
    tmp_path_factory: pytest.TempPathFactory,
    deploy_server: MlflowServer,
    mlflow_servers: SimpleNamespace,
) -> Iterator[SimpleNamespace]:
    """A real JupyterHub with ada in team-a and bob in team-b, both servers started; both
    groups bound in one shared bindings file (team-a: deploy_server, team-b: the plain one)."""
    root = tmp_path_factory.mktemp("hub")
    # every user's JupyterLab: no news prompt over the panel (it would fetch from the internet)
    labconfig = root / "jupyter-config" / "labconfig"
    labconfig.mkdir(parents=True)
    (labconfig / "page_config.json").write_text(json.dumps(LAB_PAGE_CONFIG))
    bindings = root / "mlflow-groups.json"  # the shared bindings file, read by every server
    bindings.write_text(
        json.dumps(
            {
                "groups": {
                    "team-a": {"tracking_uri": deploy_server.url, "ui": "proxy"},
                    "team-b": {"tracking_uri": mlflow_servers.plain.url},
                }
            }
        )
    )
    hub = JupyterHubProcess(
        root / "hub",
        groups={"team-a": ["ada"], "team-b": ["bob"]},
        environment={
            "JUPYTER_MLFLOW_GROUPS_FILE": str(bindings),
            "JUPYTER_CONFIG_DIR": str(root / "jupyter-config"),
        },
    ).start()
    try:
        yield SimpleNamespace(
            hub=hub,
            ada=hub.start_server("ada"),
            bob=hub.start_server("bob"),
            url={"team-a": deploy_server.url, "team-b": mlflow_servers.plain.url},
            team_a_mlflow=deploy_server,
        )
    finally:
        hub.stop()


@pytest.fixture(scope="session")
def silent_server() -> Iterator[SilentServer]:
    server = SilentServer()
    yield server
    server.close()


@pytest.fixture(scope="session")
def tls_front(
    mlflow_servers: SimpleNamespace, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TlsFront]:
    port = int(mlflow_servers.plain.url.rsplit(":", 1)[1])
    front = TlsFront(port, tmp_path_factory.mktemp("tls"))
    yield front
    front.close()


@pytest.fixture
def closed_url() -> str:
    """An http URL on a loopback port where nothing listens."""
    return f"http://127.0.0.1:{free_port()}"


@pytest.fixture
def bindings(tmp_path: Path) -> BindingsFile:
    return BindingsFile(tmp_path / "bindings.yaml")


@pytest.fixture
def extension_config() -> dict[str, Any]:
    """Extra MlflowGroupsApp settings a test wants (override in a test module)."""
    return {}


@pytest.fixture
def jp_server_config(
    bindings: BindingsFile, tmp_path: Path, extension_config: dict[str, Any]
) -> dict[str, Any]:
    return {
        "ServerApp": {"jpserver_extensions": {"jupyter_mlflow_groups": True}},
        "KernelProvisionerFactory": {"default_provisioner_name": "mlflow-groups-provisioner"},
        "MlflowGroupsApp": {
            "bindings_file": str(bindings.path),
            "user": OWNER,
            "state_dir": str(tmp_path / "state"),
            "status_timeout": 3.0,
            # no calls to MLflow in the background (registering webhooks, looking for others'
            # changes): these tests count and fake MLflow's answers; tests/test_live.py and
            # test_managed.py run them in real server processes
            "registry_webhooks": False,
            "poll_interval": 0,
            **extension_config,
        },
    }


@pytest.fixture
def jp_client(jp_serverapp: Any) -> Any:
    """pytest-jupyter's server as a client of its REST API and proxied routes, with its token."""
    token = jp_serverapp.identity_provider.token
    return JupyterClient(f"http://127.0.0.1:{jp_serverapp.port}", token)


@pytest.fixture(autouse=True)
def fresh_provisioner_factory() -> Iterator[None]:
    """The provisioner factory is a process-wide singleton that outlives each test's server."""
    KernelProvisionerFactory.clear_instance()
    yield
    KernelProvisionerFactory.clear_instance()


def pytest_collection_finish(session: pytest.Session) -> None:
    """Jupyter's own suites (test_upstream_suites), when selected, begin now and run beside
    the rest: they mostly wait on kernels, as the rest mostly waits on servers."""
    if session.config.option.collectonly:
        return
    if any(item.nodeid.startswith(RESULTS_TEST) for item in session.items):
        begin_early(session.config, Path(tempfile.mkdtemp(prefix="jmg-upstream-runs-")))


def pytest_sessionfinish(session: pytest.Session) -> None:
    runs = session.config.stash.get(UPSTREAM_RUNS, None)
    if runs is not None:
        runs.stop()
