"""Deploying versions from a real MLflow server: the copy job, its progress, the atomic switch,
records and "Deployed By", serving with `mlflow models serve`, cancel and kill."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import signal
from pathlib import Path

import pytest
from support.deploying import (
    API,
    TEAM_DEPLOYMENTS,
    deploy,
    finished,
    follow,
    invocations,
    local_experiment,
    model_server_pid,
    ping_on_socket,
    predictions,
    register_version,
    sha256_tree,
    team_server,
    until_serving,
)
from support.extension import service_of
from support.kernels import run_in_kernel, start_kernel
from support.processes import stopped
from support.rest import fetch_json

from jupyter_mlflow_groups.deploy.layout import MARKER
from jupyter_mlflow_groups.processes import pid_alive

MB = 1024 * 1024


@pytest.fixture
def group(deploy_server, bindings):
    bindings.write({"groups": {"dep": {"tracking_uri": deploy_server.url}}})
    return "dep"


def deployment_dir(jp_serverapp, group: str, name: str):
    service = service_of(jp_serverapp)
    return service.deploy_root(service.binding(group)) / name


async def test_a_200_mb_file_copies_with_live_progress_and_serves(
    group, deploy_server, sklearn_model, jp_fetch, jp_serverapp, jp_client
):
    model_dir, rows, expected = sklearn_model
    payload = os.urandom(MB) * 200
    version, source = register_version(
        deploy_server, "big-model", model_dir, {"weights.bin": payload}
    )
    status, body = await deploy(jp_fetch, group, "big", "big-model", version)
    assert status == 202, body
    seen = await follow(jp_fetch, body["job"]["id"])
    final = seen[-1]
    assert final["state"] == "done", final["error"]
    assert final["version"] == version
    assert final["bytes_total"] == sum(p.stat().st_size for p in source.rglob("*") if p.is_file())
    assert final["bytes_done"] == final["bytes_total"]
    assert final["files_done"] == final["files_total"] == len(sha256_tree(source))
    done = [job["bytes_done"] for job in seen]
    assert done == sorted(done), "progress went backwards"
    assert any(0 < job["bytes_done"] < final["bytes_total"] for job in seen), "no progress mid-copy"
    copying = [job for job in seen if job["state"] == "copying" and job["rate_bytes_per_s"]]
    assert copying and all(job["eta_s"] is not None for job in copying)
    states = [job["state"] for job in seen]
    assert states.index("copying") < states.index("done")
    assert sha256_tree(deployment_dir(jp_serverapp, group, "big") / "current") == sha256_tree(
        source
    )
    assert await predictions(jp_client, final["endpoint"], rows) == expected


async def test_two_thousand_small_files_and_nested_directories(
    group, deploy_server, sklearn_model, jp_fetch, jp_serverapp
):
    model_dir, _, _ = sklearn_model
    extra = {f"shards/{i % 7}/part-{i:04d}.bin": os.urandom(1024 + i) for i in range(2000)}
    extra["deep/a/b/c/d/leaf.txt"] = b"nested"
    version, source = register_version(deploy_server, "many-files", model_dir, extra)
    _, body = await deploy(jp_fetch, group, "many", "many-files", version)
    final = (await follow(jp_fetch, body["job"]["id"]))[-1]
    assert final["state"] == "done", final["error"]
    assert final["files_total"] == len(sha256_tree(source)) >= 2001
    deployed = deployment_dir(jp_serverapp, group, "many") / "current"
    assert sha256_tree(deployed) == sha256_tree(source)
    assert (deployed / "deep/a/b/c/d/leaf.txt").read_bytes() == b"nested"


async def test_records_history_deployed_by_and_an_update_by_alias(
    group, deploy_server, sklearn_model, jp_fetch, jp_client
):
    model_dir, rows, expected = sklearn_model
    first, _ = register_version(deploy_server, "iris", model_dir)
    second, _ = register_version(deploy_server, "iris", model_dir)
    deploy_server.request(
        "POST",
        "/api/2.0/mlflow/registered-models/alias",
        {"name": "iris", "alias": "champion", "version": second},
    )
    _, body = await deploy(jp_fetch, group, "iris-prod", "iris", first)
    first_job = (await follow(jp_fetch, body["job"]["id"]))[-1]
    assert first_job["state"] == "done", first_job["error"]

    _, model = await fetch_json(jp_fetch, *API, "groups", group, "models", "iris")
    rows_by_version = {row["version"]: row["deployed_by"] for row in model["versions"]}
    assert rows_by_version[first] == ["iris-prod"] and rows_by_version[second] == []

    _, body = await deploy(jp_fetch, group, "iris-prod", "iris", "@champion")
    update = (await follow(jp_fetch, body["job"]["id"]))[-1]
    assert update["state"] == "done", update["error"]
    assert update["version"] == second  # the alias, resolved
    assert update["endpoint"] == first_job["endpoint"]  # the endpoint does not move
    assert await predictions(jp_client, update["endpoint"], rows) == expected

    _, record = await fetch_json(jp_fetch, *API, "groups", group, "deployments", "iris-prod")
    assert (record["model"], record["version"], record["requested"]) == (
        "iris",
        second,
        "@champion",
    )
    assert record["status"] == "serving"
    assert record["invocations_url"] == f"{update['endpoint']}invocations"
    assert [(h["from_version"], h["to_version"]) for h in record["history"]] == [
        (first, second),
        (None, first),
    ]
    assert record["history"][0]["by"] == "alice"

    _, detail = await fetch_json(
        jp_fetch, *API, "groups", group, "models", "iris", "versions", second
    )
    assert detail["deployed_by"] == ["iris-prod"]
    _, listing = await fetch_json(jp_fetch, *API, "groups", group, "deployments")
    assert [d["name"] for d in listing["deployments"]] == ["iris-prod"]
    assert listing["target"] == "local"


async def test_delete_stops_serving_and_forgets(
    group, deploy_server, sklearn_model, jp_fetch, jp_serverapp, jp_client
):
    import requests

    model_dir, rows, _ = sklearn_model
    version, _ = register_version(deploy_server, "to-delete", model_dir)
    _, body = await deploy(jp_fetch, group, "short-lived", "to-delete", version)
    final = (await follow(jp_fetch, body["job"]["id"]))[-1]
    assert final["state"] == "done", final["error"]
    status, answer = await fetch_json(
        jp_fetch, *API, "groups", group, "deployments", "short-lived", method="DELETE"
    )
    assert (status, answer["deleted"]) == (200, "short-lived")
    with pytest.raises(requests.HTTPError, match="404"):  # nothing serves there any more
        await predictions(jp_client, final["endpoint"], rows)
    assert not deployment_dir(jp_serverapp, group, "short-lived").exists()
    status, _ = await fetch_json(jp_fetch, *API, "groups", group, "deployments", "short-lived")
    assert status == 404
    _, model = await fetch_json(jp_fetch, *API, "groups", group, "models", "to-delete")
    assert model["versions"][0]["deployed_by"] == []


async def test_cancel_is_offered_until_the_switch_over_then_refused_without_an_id(
    group, deploy_server, sklearn_model, jp_fetch
):
    model_dir, _, _ = sklearn_model
    version, _ = register_version(deploy_server, "late", model_dir)
    _, body = await deploy(jp_fetch, group, "late-prod", "late", version)
    job_id, seen = body["job"]["id"], [body["job"]]
    refused = None
    while seen[-1]["state"] not in ("done", "failed", "cancelled"):
        _, job = await fetch_json(jp_fetch, *API, "jobs", job_id)
        seen.append(job)
        if job["state"] == "serving" and refused is None:  # the model server is starting
            refused = await fetch_json(jp_fetch, *API, "jobs", job_id, method="DELETE")
        await asyncio.sleep(0.02)
    assert seen[-1]["state"] == "done", seen[-1]["error"]
    for job in seen:
        assert job["cancellable"] == (
            job["state"] in ("queued", "planning", "copying", "verifying")
        )
    assert refused is not None, [job["state"] for job in seen]
    status, answer = refused
    assert (status, answer["error"]["code"]) == (409, "conflict")
    assert answer["error"]["message"] == (
        f"The deployment 'late-prod' is already switching over to version {version}: too late "
        "to cancel; it will finish in a moment."
    )
    assert answer["error"]["hint"].startswith("Wait for it to finish.")
    assert job_id not in json.dumps(answer)
    assert seen[-1]["invocations_url"] == f"{seen[-1]['endpoint']}invocations"


async def test_stop_and_start_a_deployment(
    group, deploy_server, sklearn_model, jp_fetch, jp_client
):
    import requests

    model_dir, rows, expected = sklearn_model
    version, _ = register_version(deploy_server, "pausable", model_dir)
    _, body = await deploy(jp_fetch, group, "pausable", "pausable", version)
    final = (await follow(jp_fetch, body["job"]["id"]))[-1]
    assert final["state"] == "done", final["error"]
    one = (*API, "groups", group, "deployments", "pausable")

    status, stopped_one = await fetch_json(jp_fetch, *one, "stop", method="POST")
    assert (status, stopped_one["status"]) == (200, "stopped")
    _, deployment = await fetch_json(jp_fetch, *one)
    assert stopped_one == deployment  # the deployment, as GET gives it
    assert deployment["ui_url"] == f"{deploy_server.url}/#/models/pausable/versions/{version}"
    with pytest.raises(requests.HTTPError, match="404"):  # nothing serves it any more
        await predictions(jp_client, final["endpoint"], rows)
    _, model = await fetch_json(jp_fetch, *API, "groups", group, "models", "pausable")
    assert model["versions"][0]["deployed_by"] == []  # a stopped deployment serves nothing
    status, again = await fetch_json(jp_fetch, *one, "stop", method="POST")
    assert (status, again["status"]) == (200, "stopped")  # stopping twice is harmless

    status, started = await fetch_json(jp_fetch, *one, "start", method="POST")
    assert (status, started["status"]) == (200, "starting")
    deployment = started
    while deployment["status"] == "starting":
        await asyncio.sleep(0.1)
        _, deployment = await fetch_json(jp_fetch, *one)
    assert deployment["status"] == "serving", deployment
    assert deployment["endpoint"] == final["endpoint"]  # the same address as before
    assert await predictions(jp_client, final["endpoint"], rows) == expected
    status, again = await fetch_json(jp_fetch, *one, "start", method="POST")
    assert (status, again["status"]) == (200, "serving")  # already serving: nothing changes

    _, body = await deploy(jp_fetch, group, "pausable", "pausable", version)
    for action in ("stop", "start"):  # while a job changes it, neither
        status, refused = await fetch_json(jp_fetch, *one, action, method="POST")
        assert (status, refused["error"]["code"]) == (409, "conflict"), refused
        assert "is being updated to pausable" in refused["error"]["message"]
    assert (await follow(jp_fetch, body["job"]["id"]))[-1]["state"] == "done"
    status, refused = await fetch_json(jp_fetch, *one, "stop", method="POST", body={"now": 1})
    assert (status, refused["error"]["code"]) == (400, "bad_request")
    assert refused["error"]["message"] == "Unknown field(s) 'now': this request takes no fields."


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("Bad_Name", "not a valid deployment name"),
        ("../escape", "not a valid deployment name"),
        ("x" * 64, "not a valid deployment name"),
        ("-lead", "not a valid deployment name"),
    ],
)
async def test_bad_deployment_names_are_refused(group, jp_fetch, name, fragment):
    status, body = await deploy(jp_fetch, group, name, "iris", "1")
    assert (status, body["error"]["code"]) == (400, "bad_request")
    assert fragment in body["error"]["message"]


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        ({"name": "ok"}, "Name the registered model to deploy."),
        ({"name": " ", "model": "m", "version": "1"}, "Give the new deployment a name."),
        ({"name": "ok", "model": "m"}, "Say which version to deploy."),
        ({"name": "ok", "model": "m", "version": "latest"}, "neither a version number"),
    ],
)
async def test_malformed_deploy_requests(group, jp_fetch, payload, fragment):
    status, body = await fetch_json(
        jp_fetch, *API, "groups", group, "deployments", method="POST", body=payload
    )
    assert status == 400 and fragment in body["error"]["message"]


async def test_a_version_that_is_not_a_model_fails_clearly(
    group, deploy_server, jp_fetch, tmp_path
):
    not_a_model = tmp_path / "not-a-model"
    not_a_model.mkdir()
    (not_a_model / "readme.txt").write_text("no MLmodel here")
    version, _ = register_version(deploy_server, "no-mlmodel", not_a_model)
    _, body = await deploy(jp_fetch, group, "nothing", "no-mlmodel", version)
    final = (await follow(jp_fetch, body["job"]["id"]))[-1]
    assert final["state"] == "failed"
    assert final["error"]["code"] == "not_a_model"
    assert "holds no MLmodel file" in final["error"]["message"]
    assert "logged as an MLflow model" in final["error"]["hint"]  # what to do about it


async def test_a_symlink_in_a_local_store_is_refused(
    group, deploy_server, sklearn_model, jp_fetch, tmp_path
):
    model_dir, _, _ = sklearn_model
    experiment = local_experiment(deploy_server, tmp_path / "file-store")
    linked = tmp_path / "linked-model"
    shutil.copytree(model_dir, linked)
    (linked / "escape").symlink_to("/etc/hostname")
    version, _ = register_version(deploy_server, "linked", linked, experiment=experiment)
    _, body = await deploy(jp_fetch, group, "linked", "linked", version)
    final = (await follow(jp_fetch, body["job"]["id"]))[-1]
    assert (final["state"], final["error"]["code"]) == ("failed", "unsafe_path")
    assert "symbolic link" in final["error"]["message"]


async def test_a_local_file_store_is_copied_directly(
    group, deploy_server, sklearn_model, jp_fetch, jp_serverapp, tmp_path, jp_client
):
    model_dir, rows, expected = sklearn_model
    experiment = local_experiment(deploy_server, tmp_path / "file-store")
    version, source = register_version(
        deploy_server,
        "from-files",
        model_dir,
        {"blob.bin": os.urandom(8 * MB)},
        experiment=experiment,
    )
    _, body = await deploy(jp_fetch, group, "files", "from-files", version)
    final = (await follow(jp_fetch, body["job"]["id"]))[-1]
    assert final["state"] == "done", final["error"]
    assert final["source"] == f"the directory {source}"  # no HTTP: the filesystem fast path
    assert sha256_tree(deployment_dir(jp_serverapp, group, "files") / "current") == sha256_tree(
        source
    )
    assert await predictions(jp_client, final["endpoint"], rows) == expected


@pytest.fixture
def slow_group(deploy_server, bindings):
    """The deploy server behind a 40 MB/s link: a 200 MB copy takes seconds, long enough to be
    cancelled or killed halfway."""
    from support.servers import ThrottledProxy

    proxy = ThrottledProxy(int(deploy_server.url.rsplit(":", 1)[1]), bytes_per_second=40 * MB)
    bindings.write({"groups": {"slow": {"tracking_uri": proxy.url}}})
    yield "slow"
    proxy.close()


async def serving_then_interrupted(
    jp_fetch, jp_serverapp, jp_client, deploy_server, sklearn_model, interrupt
):
    """Deploy v1 (serving), start v2 (200 MB), interrupt it halfway; return (v1 job, v2 job)."""
    model_dir, rows, expected = sklearn_model
    first, _ = register_version(deploy_server, "slow-model", model_dir)
    second, _ = register_version(
        deploy_server, "slow-model", model_dir, {"weights.bin": os.urandom(MB) * 200}
    )
    _, body = await deploy(jp_fetch, "slow", "steady", "slow-model", first)
    serving = (await follow(jp_fetch, body["job"]["id"]))[-1]
    assert serving["state"] == "done", serving["error"]
    release_before = sha256_tree(deployment_dir(jp_serverapp, "slow", "steady") / "current")

    _, body = await deploy(jp_fetch, "slow", "steady", "slow-model", second)
    job_id = body["job"]["id"]
    while True:
        _, job = await fetch_json(jp_fetch, *API, "jobs", job_id)
        if job["state"] == "copying" and job["bytes_done"] > 20 * MB:
            break
        assert job["state"] in ("queued", "planning", "copying"), job
    await interrupt(job_id)
    final = (await follow(jp_fetch, job_id))[-1]

    directory = deployment_dir(jp_serverapp, "slow", "steady")
    assert sha256_tree(directory / "current") == release_before  # untouched
    assert not any((directory / "staging").glob("*"))  # the partial copy is gone
    _, record = await fetch_json(jp_fetch, *API, "groups", "slow", "deployments", "steady")
    assert (record["version"], record["status"]) == (first, "serving")
    assert await predictions(jp_client, serving["endpoint"], rows) == expected  # still serving
    return final


async def test_cancel_halfway_leaves_the_previous_deployment_serving(
    slow_group, jp_fetch, jp_serverapp, jp_client, deploy_server, sklearn_model
):
    async def cancel(job_id):
        status, _ = await fetch_json(jp_fetch, *API, "jobs", job_id, method="DELETE")
        assert status == 200

    final = await serving_then_interrupted(
        jp_fetch, jp_serverapp, jp_client, deploy_server, sklearn_model, cancel
    )
    assert final["state"] == "cancelled"
    assert 0 < final["bytes_done"] < final["bytes_total"]


async def test_a_killed_copy_process_leaves_the_previous_deployment_serving(
    slow_group, jp_fetch, jp_serverapp, jp_client, deploy_server, sklearn_model
):
    async def kill(job_id):
        process = service_of(jp_serverapp).deployments.jobs[job_id].process
        os.kill(process.pid, signal.SIGKILL)

    final = await serving_then_interrupted(
        jp_fetch, jp_serverapp, jp_client, deploy_server, sklearn_model, kill
    )
    assert (final["state"], final["error"]["code"]) == ("failed", "killed")
    assert "deploy again" in final["error"]["hint"]
    assert "signal 9" in final["error"]["message"]


async def test_a_second_job_on_the_same_deployment_is_refused(
    slow_group, jp_fetch, deploy_server, sklearn_model
):
    model_dir, _, _ = sklearn_model
    version, _ = register_version(
        deploy_server, "contended", model_dir, {"weights.bin": os.urandom(MB) * 100}
    )
    _, first = await deploy(jp_fetch, "slow", "contended", "contended", version)
    status, second = await deploy(jp_fetch, "slow", "contended", "contended", version)
    assert (status, second["error"]["code"]) == (409, "conflict")
    assert second["error"]["message"] == (
        f"The deployment 'contended' is being updated to contended v{version} (started by alice)."
    )
    assert first["job"]["id"] not in json.dumps(second)  # no internal id shown
    assert second["error"]["hint"] == "Wait for the update to finish, or cancel it, then try again."
    await fetch_json(jp_fetch, *API, "jobs", first["job"]["id"], method="DELETE")
    assert (await follow(jp_fetch, first["job"]["id"]))[-1]["state"] == "cancelled"


async def test_stopping_the_server_waits_for_running_copies(
    slow_group, jp_fetch, jp_serverapp, deploy_server, sklearn_model
):
    model_dir, _, _ = sklearn_model
    version, _ = register_version(
        deploy_server, "stopping", model_dir, {"weights.bin": os.urandom(MB) * 100}
    )
    _, started = await deploy(jp_fetch, "slow", "stopping", "stopping", version)
    job = service_of(jp_serverapp).deployments.jobs[started["job"]["id"]]
    while job.process is None or job.bytes_done == 0:
        await asyncio.sleep(0.05)
    await service_of(jp_serverapp).deployments.shutdown()
    assert job.process.returncode is not None  # no copy outlives the server


async def test_jobs_of_unknown_ids_and_groups(group, jp_fetch):
    status, body = await fetch_json(jp_fetch, *API, "jobs", "nope")
    assert (status, body["error"]["code"]) == (404, "not_found")
    status, body = await fetch_json(jp_fetch, *API, "groups", "ghost", "deployments")
    assert status == 404


S3_KEY_ID, S3_SECRET = "AKIDTESTGROUPKEY", "group-only-s3-secret-9e1f"


async def test_an_s3_store_with_the_binding_s_keys_only(
    deploy_server, moto_s3, sklearn_model, bindings, jp_fetch, jp_serverapp, monkeypatch, jp_client
):
    for name in [name for name in os.environ if name.startswith("AWS_")]:
        monkeypatch.delenv(name)  # the server's own environment holds no S3 keys
    model_dir, rows, expected = sklearn_model
    s3 = moto_s3.client(S3_KEY_ID, S3_SECRET)
    s3.create_bucket(Bucket="team-models")
    model_files = [path for path in model_dir.rglob("*") if path.is_file()]
    files = {path.relative_to(model_dir).as_posix(): path.read_bytes() for path in model_files}
    files["weights/blob.bin"] = os.urandom(3 * MB)
    for relative, content in files.items():
        s3.put_object(Bucket="team-models", Key=f"iris/v1/{relative}", Body=content)
    deploy_server.request("POST", "/api/2.0/mlflow/registered-models/create", {"name": "s3-iris"})
    version = deploy_server.request(
        "POST",
        "/api/2.0/mlflow/model-versions/create",
        {"name": "s3-iris", "source": "s3://team-models/iris/v1"},
    )["model_version"]["version"]
    artifact_env = {
        "AWS_ACCESS_KEY_ID": S3_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": S3_SECRET,
        "MLFLOW_S3_ENDPOINT_URL": moto_s3.url,
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    endpoint_only = {"MLFLOW_S3_ENDPOINT_URL": moto_s3.url}
    bindings.write(
        {
            "groups": {
                "s3": {"tracking_uri": deploy_server.url, "artifact_env": artifact_env},
                "no-keys": {"tracking_uri": deploy_server.url, "artifact_env": endpoint_only},
            }
        }
    )

    _, body = await deploy(jp_fetch, "s3", "from-s3", "s3-iris", version)
    final = (await follow(jp_fetch, body["job"]["id"]))[-1]
    assert final["state"] == "done", final["error"]
    assert final["source"] == "s3://team-models/iris/v1"
    deployed = deployment_dir(jp_serverapp, "s3", "from-s3") / "current"
    assert {path: digest for path, digest in sha256_tree(deployed).items()} == {
        relative: hashlib.sha256(content).hexdigest() for relative, content in files.items()
    }
    assert await predictions(jp_client, final["endpoint"], rows) == expected

    _, body = await deploy(jp_fetch, "no-keys", "from-s3", "s3-iris", version)
    failed = (await follow(jp_fetch, body["job"]["id"]))[-1]
    assert failed["state"] == "failed"  # without the binding's keys there is no way in
    assert "credentials" in failed["error"]["message"].lower()
    assert S3_SECRET not in str(failed)


async def test_another_mlflow_deployments_target_is_used_and_its_failure_explained(
    deploy_server, sklearn_model, bindings, jp_fetch, jp_serverapp
):
    model_dir, _, _ = sklearn_model
    version, _ = register_version(deploy_server, "elsewhere", model_dir)
    bindings.write(
        {
            "groups": {
                "remote": {
                    "tracking_uri": deploy_server.url,
                    "deploy": {"target": "no-such-target"},
                }
            }
        }
    )
    _, listing = await fetch_json(jp_fetch, *API, "groups", "remote", "deployments")
    assert listing["target"] == "no-such-target"
    _, body = await deploy(jp_fetch, "remote", "far", "elsewhere", version)
    final = (await follow(jp_fetch, body["job"]["id"]))[-1]
    assert (final["state"], final["error"]["code"]) == ("failed", "serving")
    assert "the 'no-such-target' deployment target failed" in final["error"]["message"]
    assert "No plugin found" in final["error"]["message"]
    assert not deployment_dir(jp_serverapp, "remote", "far").exists()


async def test_deploying_to_sagemaker_through_mlflows_own_target(
    deploy_server, sklearn_model, moto_s3, bindings, jp_fetch, jp_serverapp
):
    """MLflow's `sagemaker` deployments target, unchanged, against moto's SageMaker, IAM and ECR
    (no AWS account here, and no containers run): a deploy creates the endpoint, a second one
    updates it, a delete removes it; the group's AWS variables are all it has."""
    import boto3

    region, role_name = "us-east-1", "mlflow-sagemaker"
    keys = {"aws_access_key_id": "sagemaker-key", "aws_secret_access_key": "sm-secret-4b1d9e"}

    def aws(service: str):
        return boto3.client(service, endpoint_url=moto_s3.url, region_name=region, **keys)

    # an admin's one-time setup: the serving image's repository, the role endpoints run as
    aws("ecr").create_repository(repositoryName="mlflow-pyfunc")
    role = aws("iam").create_role(RoleName=role_name, AssumeRolePolicyDocument="{}")["Role"]
    model_dir, _, _ = sklearn_model
    first, _ = register_version(deploy_server, "to-sagemaker", model_dir)
    second, _ = register_version(deploy_server, "to-sagemaker", model_dir)
    bindings.write(
        {
            "groups": {
                "aws": {
                    "tracking_uri": deploy_server.url,
                    "artifact_env": {
                        "AWS_ACCESS_KEY_ID": keys["aws_access_key_id"],
                        "AWS_SECRET_ACCESS_KEY": keys["aws_secret_access_key"],
                        "AWS_DEFAULT_REGION": region,
                        "AWS_ENDPOINT_URL": moto_s3.url,
                    },
                    "deploy": {"target": f"sagemaker:/{region}/{role['Arn']}"},
                }
            }
        }
    )
    sagemaker = aws("sagemaker")

    async def deploy_and_follow(version: str) -> tuple[dict, dict]:
        _, body = await deploy(jp_fetch, "aws", "iris-sm", "to-sagemaker", version)
        final = (await follow(jp_fetch, body["job"]["id"]))[-1]
        _, record = await fetch_json(jp_fetch, *API, "groups", "aws", "deployments", "iris-sm")
        assert keys["aws_secret_access_key"] not in json.dumps([final, record])
        return final, record

    final, record = await deploy_and_follow(first)
    assert final["state"] == "done", final["error"]
    assert (record["status"], record["version"]) == ("serving", first)
    assert record["target"] == f"sagemaker:/{region}/{role['Arn']}"
    endpoint = sagemaker.describe_endpoint(EndpointName="iris-sm")
    assert endpoint["EndpointStatus"] == "InService"

    # moto has no UpdateEndpoint: the second deploy takes MLflow's update path (as it would on
    # AWS) and fails there; the endpoint and the record keep the first version
    final, record = await deploy_and_follow(second)
    assert (final["state"], final["error"]["code"]) == ("failed", "serving")
    assert "UpdateEndpoint" in final["error"]["message"]
    assert (record["status"], record["version"]) == ("serving", first)
    unchanged = sagemaker.describe_endpoint(EndpointName="iris-sm")
    assert unchanged["EndpointConfigName"] == endpoint["EndpointConfigName"]

    status, _ = await fetch_json(
        jp_fetch, *API, "groups", "aws", "deployments", "iris-sm", method="DELETE"
    )
    assert status == 200
    assert sagemaker.list_endpoints()["Endpoints"] == []


PLUGIN_CODE = """
import json, subprocess, sys
import pandas as pd
from mlflow.deployments import get_deploy_client
client = get_deploy_client("jupyter-mlflow-groups")
info = client.create_deployment("via-plugin", "models:/plug-iris/{version}")
names = [d["name"] for d in client.list_deployments()]
predictions = client.predict("via-plugin", pd.DataFrame({rows}))
cli = subprocess.run([sys.executable, "-m", "mlflow", "deployments", "get",
                      "-t", "jupyter-mlflow-groups", "--name", "via-plugin"],
                     capture_output=True, text=True)
print(json.dumps({{"status": info["status"], "version": info["version"], "names": names,
                  "predictions": predictions["predictions"], "cli": cli.stdout + cli.stderr}}))
"""


async def test_the_mlflow_deployments_plugin_from_a_kernel(
    group, deploy_server, sklearn_model, jp_fetch, jp_serverapp
):
    model_dir, rows, expected = sklearn_model
    version, _ = register_version(deploy_server, "plug-iris", model_dir)
    kernel = await start_kernel(jp_fetch)
    output = await run_in_kernel(
        jp_serverapp, kernel, PLUGIN_CODE.format(version=version, rows=rows), timeout=240
    )
    result = json.loads(output.strip().splitlines()[-1])
    assert (result["status"], result["version"]) == ("serving", version)
    assert result["names"] == ["via-plugin"]
    assert result["predictions"] == expected
    assert "via-plugin" in result["cli"] and "plug-iris" in result["cli"]


async def test_a_new_server_removes_staging_left_by_dead_jobs(deploy_server, tmp_path):
    leftover = (
        tmp_path
        / "home"
        / "data"
        / "jupyter_mlflow_groups"
        / "groups"
        / "team"
        / "deployments"
        / "prod"
        / "staging"
        / "dead-job"
    )
    leftover.mkdir(parents=True)
    (leftover.parents[1] / MARKER).write_text("")  # a deployment directory of ours
    (leftover / "half-copied.bin").write_bytes(b"x" * 1000)
    server = team_server(deploy_server.url, tmp_path).start()
    try:
        for _ in range(100):
            if not leftover.exists():
                break
            await asyncio.sleep(0.1)
        assert not leftover.exists()
        assert "left by a job that did not finish" in server.log()
    finally:
        server.stop()


async def test_serving_stops_with_the_server_and_resumes_when_it_starts_again(
    deploy_server, sklearn_model, tmp_path
):

    model_dir, rows, expected = sklearn_model
    version, _ = register_version(deploy_server, "restarts", model_dir)
    server = team_server(deploy_server.url, tmp_path).start()
    try:
        body = {"name": "survivor", "model": "restarts", "version": version}
        job = await finished(server, server.request("POST", TEAM_DEPLOYMENTS, body)["job"])
        assert job["state"] == "done", job["error"]
        assert invocations(server, job["endpoint"], rows) == expected
        directory = Path(server.request("GET", f"{TEAM_DEPLOYMENTS}/survivor")["path"]).parents[1]
        model_server = model_server_pid(directory)
        body = {"name": "resting", "model": "restarts", "version": version}  # stopped on purpose
        rest = await finished(server, server.request("POST", TEAM_DEPLOYMENTS, body)["job"])
        assert rest["state"] == "done", rest["error"]
        stopped_one = server.request("POST", f"{TEAM_DEPLOYMENTS}/resting/stop")
        assert stopped_one["status"] == "stopped"

        server.stop()
        assert stopped(model_server)  # the model server stopped with Jupyter

        server.start()
        deployment = await until_serving(server, "survivor")
        assert deployment["endpoint"] == job["endpoint"]  # the same address as before
        assert invocations(server, job["endpoint"], rows) == expected
        # started before "survivor" would have been ("resting" comes first): it stays stopped
        assert server.request("GET", f"{TEAM_DEPLOYMENTS}/resting")["status"] == "stopped"
    finally:
        server.stop()


async def test_a_model_server_orphaned_by_a_killed_jupyter_is_replaced(
    deploy_server, sklearn_model, tmp_path
):
    """Jupyter killed alone (not its process group): its model server lives on in its own
    session; the next Jupyter server stops it and serves the deployment on the same port."""
    model_dir, rows, expected = sklearn_model
    version, _ = register_version(deploy_server, "orphans", model_dir)
    server = team_server(deploy_server.url, tmp_path).start()
    try:
        body = {"name": "orphan", "model": "orphans", "version": version}
        job = await finished(server, server.request("POST", TEAM_DEPLOYMENTS, body)["job"])
        assert job["state"] == "done", job["error"]
        release = server.request("GET", f"{TEAM_DEPLOYMENTS}/orphan")["path"]
        directory = Path(release).parent.parent
        orphan = model_server_pid(directory)

        assert server.process is not None
        os.kill(server.process.pid, signal.SIGKILL)  # Jupyter alone
        server.process.wait()
        assert pid_alive(orphan) and ping_on_socket(directory) == 200  # the orphan still serves

        server.start()
        deployment = await until_serving(server, "orphan")
        assert not pid_alive(orphan)
        assert model_server_pid(directory) != orphan
        assert deployment["endpoint"] == job["endpoint"]
        assert invocations(server, job["endpoint"], rows) == expected
    finally:
        server.stop()
