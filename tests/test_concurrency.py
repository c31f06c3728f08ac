"""Many requests at once, at modest scale: deploys on one name and on many, browsing, kernels.

Correctness only (the figures are in benchmarks/load.py): every request gets a clear answer,
nothing is torn or lost, and what is recorded matches what serves.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from support.deploying import API, deploy, follow, predictions, register_version
from support.extension import service_of
from support.kernels import kernel_env, start_kernel
from support.rest import fetch_json


@pytest.fixture
def group(deploy_server, bindings):
    bindings.write({"groups": {"busy": {"tracking_uri": deploy_server.url}}})
    return "busy"


def deployment_files(jp_serverapp, group: str, name: str) -> tuple[list[str], Path]:
    """The release directories a deployment keeps, and where its `current` link points."""
    service = service_of(jp_serverapp)
    directory = service.deploy_root(service.binding(group)) / name
    releases = sorted(path.name for path in (directory / "releases").iterdir())
    return releases, (directory / "current").resolve()


async def test_ten_deploys_at_once_on_one_name_run_one_and_refuse_the_rest(
    group, deploy_server, sklearn_model, jp_fetch, jp_serverapp, jp_client
):
    model_dir, rows, expected = sklearn_model
    versions = [register_version(deploy_server, "crowded", model_dir)[0] for _ in range(2)]
    answers = await asyncio.gather(
        *(deploy(jp_fetch, group, "crowded", "crowded", versions[i % 2]) for i in range(10))
    )
    accepted = [body for status, body in answers if status == 202]
    refused = [body for status, body in answers if status == 409]
    assert len(accepted) == 1 and len(refused) == 9, [status for status, _ in answers]
    job_id = accepted[0]["job"]["id"]
    running = f"crowded v{accepted[0]['job']['requested']}"
    for body in refused:
        assert body["error"]["code"] == "conflict"
        assert body["error"]["message"] == (
            f"The deployment 'crowded' is being updated to {running} (started by alice)."
        )  # which deployment, to what, by whom: not the job's internal id
        assert job_id not in body["error"]["message"] and body["error"]["hint"]
    final = (await follow(jp_fetch, job_id))[-1]
    assert final["state"] == "done", final["error"]

    _, record = await fetch_json(jp_fetch, *API, "groups", group, "deployments", "crowded")
    assert record["version"] == final["version"] == accepted[0]["job"]["requested"]
    assert record["status"] == "serving" and record["job"] is None
    assert [(h["from_version"], h["to_version"], h["job"]) for h in record["history"]] == [
        (None, final["version"], job_id)
    ]
    assert await predictions(jp_client, record["endpoint"], rows) == expected
    releases, current = deployment_files(jp_serverapp, group, "crowded")
    assert releases == [job_id] and str(current) == record["path"]


async def test_deploys_on_different_names_in_parallel_all_land(
    group, deploy_server, sklearn_model, jp_fetch, jp_client
):
    model_dir, rows, expected = sklearn_model
    version, _ = register_version(deploy_server, "fanned", model_dir)
    names = [f"fan-{index}" for index in range(3)]
    answers = await asyncio.gather(
        *(deploy(jp_fetch, group, name, "fanned", version) for name in names)
    )
    assert [status for status, _ in answers] == [202] * len(names), answers
    finals = await asyncio.gather(*(follow(jp_fetch, body["job"]["id"]) for _, body in answers))
    assert [seen[-1]["state"] for seen in finals] == ["done"] * len(names), [
        seen[-1]["error"] for seen in finals
    ]

    _, listing = await fetch_json(jp_fetch, *API, "groups", group, "deployments")
    listed = {d["name"]: d for d in listing["deployments"] if d["name"] in names}
    assert sorted(listed) == names
    assert {(d["version"], d["status"], len(d["history"])) for d in listed.values()} == {
        (version, "serving", 1)
    }
    endpoints = {d["endpoint"] for d in listed.values()}
    assert len(endpoints) == len(names)  # every deployment has an endpoint of its own
    for endpoint in endpoints:
        assert await predictions(jp_client, endpoint, rows) == expected
    _, model = await fetch_json(jp_fetch, *API, "groups", group, "models", "fanned")
    assert sorted(model["versions"][0]["deployed_by"]) == names


async def test_thirty_browse_requests_at_once_agree(group, deploy_server, sklearn_model, jp_fetch):
    model_dir, _, _ = sklearn_model
    version, _ = register_version(deploy_server, "browsed", model_dir)
    paths = [
        (("models",), {"filter": "name = 'browsed'"}),
        (("models", "browsed"), {}),
        (("models", "browsed", "versions", version), {}),
    ]
    requests = [
        (parts, {**params, **({"refresh": "1"} if index % 2 else {})})
        for index in range(10)
        for parts, params in paths
    ]
    # tornado's test client keeps 10 in flight and queues the rest; benchmarks/load.py runs 50
    answers = await asyncio.gather(
        *(fetch_json(jp_fetch, *API, "groups", group, *p, params=q) for p, q in requests)
    )
    assert [status for status, _ in answers] == [200] * len(requests), answers
    for index, (parts, _) in enumerate(paths):
        bodies = {json.dumps(body, sort_keys=True) for body in answers[index :: len(paths)]}
        assert len(bodies) == 1, parts
    assert [m["name"] for m in answers[0][1]["models"]] == ["browsed"]
    assert answers[2][1]["version"] == version


async def test_kernels_started_at_once_each_get_the_group_and_a_token_of_their_own(
    group, deploy_server, jp_fetch, jp_serverapp
):
    kernels = await asyncio.gather(*(start_kernel(jp_fetch) for _ in range(4)))
    environments = await asyncio.gather(*(kernel_env(jp_serverapp, k) for k in kernels))
    assert {(env["JUPYTER_MLFLOW_GROUP"], env["MLFLOW_TRACKING_URI"]) for env in environments} == {
        (group, deploy_server.url)
    }
    assert len({env["JUPYTER_MLFLOW_GROUPS_TOKEN"] for env in environments}) == len(kernels)


class TestCopiesAreBounded:
    """Many deploys at once start a bounded number of copy processes; the rest wait, queued,
    and can be cancelled while they wait."""

    @pytest.fixture
    def extension_config(self):
        return {"max_copies": 2}

    async def test_at_most_max_copies_run_and_the_rest_queue(
        self, deploy_server, bindings, sklearn_model, jp_fetch, jp_serverapp
    ):
        from support.servers import ThrottledProxy

        link = ThrottledProxy(int(deploy_server.url.rsplit(":", 1)[1]), bytes_per_second=30_000_000)
        bindings.write({"groups": {"slow": {"tracking_uri": link.url}}})
        try:
            model_dir, _, _ = sklearn_model
            weights = {"weights.bin": b"w" * 15_000_000}  # half a second each behind the link
            version, _ = register_version(deploy_server, "queued", model_dir, weights)
            names = [f"queued-{index}" for index in range(5)]
            started = await asyncio.gather(
                *(deploy(jp_fetch, "slow", name, "queued", version) for name in names)
            )
            ids = [body["job"]["id"] for _, body in started]
            status, _ = await fetch_json(jp_fetch, *API, "jobs", ids[-1], method="DELETE")
            assert status == 200
            most_at_once, ever_queued = 0, set()
            while True:
                # one snapshot of every job at one moment (REST reads one after another would
                # see a job that already ended beside the one that took its slot since)
                jobs = service_of(jp_serverapp).deployments.jobs
                states = [jobs[i].state for i in ids]
                most_at_once = max(
                    most_at_once,
                    sum(s not in ("queued", "done", "failed", "cancelled") for s in states),
                )
                ever_queued |= {i for i, s in zip(ids, states, strict=True) if s == "queued"}
                if all(s in ("done", "failed", "cancelled") for s in states):
                    break
                await asyncio.sleep(0.02)
        finally:
            link.close()
        assert most_at_once <= 2, most_at_once
        assert len(ever_queued) >= 2  # five jobs, two slots
        assert states[:-1] == ["done"] * 4, states
        assert states[-1] == "cancelled"  # cancelled while it waited: it never copied
        _, last = await fetch_json(jp_fetch, *API, "jobs", ids[-1])
        assert last["bytes_done"] == 0 and last["source"] is None
