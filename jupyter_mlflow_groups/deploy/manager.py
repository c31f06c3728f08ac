"""Deployments of every group: jobs (copy in a worker process, swap, record, serve), records,
serving processes. Everything here runs on the event loop without blocking it: the copy runs
in its own process, file and database work in threads.
"""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import sys
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ..bindings import GroupBinding, secret_values
from ..errors import HINTS, ApiError, Stopping
from ..links import Links, ui_page
from ..processes import private_root
from ..secrets import redact
from ..settings import Settings
from ..upstream import Upstream
from .follow import AliasFollower
from .jobs import Job
from .layout import (
    JOBS_LOG,
    DeploymentLayout,
    UnsafePath,
    check_deployment_name,
    leftover_staging,
)
from .records import DeploymentRecord, DeploymentStore, now
from .serving import LOCAL, LocalServers, ServingError, publish


class GroupAccess(Protocol):
    """What deployments need from the rest of the extension."""

    user: str
    links: Links

    def binding(self, group: str) -> GroupBinding: ...  # 403/404 unless the user is in it

    def bindings_for_startup(self) -> list[GroupBinding]: ...

    def worker_environment(self, binding: GroupBinding) -> dict[str, str]: ...

    def serving_environment(self, binding: GroupBinding) -> dict[str, str]: ...

    def deploy_root(self, binding: GroupBinding) -> Path: ...

    def local_artifacts(self, binding: GroupBinding) -> Path | None: ...

    def tracking_socket(self, binding: GroupBinding) -> str | None: ...

    def start_managed(self, binding: GroupBinding) -> None: ...  # a copy needs the server

    def ui_url(self, binding: GroupBinding) -> str | None: ...  # the group's MLflow UI

    async def alias_version(self, group: str, model: str, alias: str) -> str | None: ...


@dataclass(frozen=True)
class _Context:
    """One group's deployment area, as a job or a request needs it."""

    binding: GroupBinding
    root: Path
    store: DeploymentStore
    env: dict[str, str]  # a copy worker's (and a publishing process's)
    serving_env: dict[str, str]  # a local model server's
    secrets: list[str]
    ui_url: str | None  # the group's MLflow UI, for links to the served versions


class DeploymentManager:
    def __init__(
        self,
        access: GroupAccess,
        log: logging.Logger,
        settings: Settings,
        *,
        on_change: Callable[[str], None] = lambda group: None,
    ) -> None:
        self.access = access
        self.log = log
        self.copy_threads = settings.copy_threads
        self.copy_timeout = settings.request_timeout  # each MLflow call of a copy
        self._copy_slots = asyncio.Semaphore(settings.max_copies)  # the rest wait, queued
        self.servers = LocalServers(settings.serve_timeout)
        self.follower = AliasFollower(self, access.alias_version, settings.follow_interval, log)
        self.on_change = on_change
        self.jobs: dict[str, Job] = {}
        self._active: dict[tuple[str, str], Job] = {}
        self._stores: dict[Path, DeploymentStore] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._queued: dict[str, asyncio.Task[Any]] = {}  # each job's task, until it ends
        self._starting: dict[tuple[str, str], asyncio.Task[Any]] = {}  # model servers coming up
        self._stopped = False
        # set once start-up has put back what was serving: until then, a deployment recorded
        # `serving` whose model server is not up yet is `starting`, not `stopped`
        self._resumed = asyncio.Event()

    # -- reading ---------------------------------------------------------------------------------

    async def list(self, group: str) -> dict[str, Any]:
        context = await self._context(group)
        records = await asyncio.to_thread(context.store.all)
        deployments = [self._describe(context, record) for record in records]
        known = {record.name for record in records}
        deployments += [
            self._describe_new(job)
            for (g, name), job in self._active.items()
            if g == group and name not in known
        ]
        return {
            "group": group,
            "target": context.binding.deploy.target,
            "deployments": sorted(deployments, key=lambda d: d["name"]),
        }

    async def get(self, group: str, name: str) -> dict[str, Any]:
        context = await self._context(group)
        record = await asyncio.to_thread(context.store.get, name)
        if record is None:
            job = self._active.get((group, name))
            if job is None:
                raise unknown_deployment(group, name)
            return self._describe_new(job)
        return self._describe(context, record)

    async def followed(self) -> list[tuple[str, DeploymentRecord]]:
        """Every serving deployment of the user's groups that follows an alias."""
        found = []
        for binding in self.access.bindings_for_startup():
            try:
                store = await self._store_for(binding)
            except Exception:  # an area that cannot be opened: said at start-up; skip it
                continue
            records = await asyncio.to_thread(store.all)
            found += [(binding.name, r) for r in records if r.follow and r.status == "serving"]
        return found

    def busy_deployments(self) -> set[tuple[str, str]]:
        """(group, name) of the deployments a job is changing now."""
        return set(self._active)

    async def deployed_by(self, group: str, model: str) -> Mapping[str, list[str]]:
        """Which deployments serve each version of a model ("Deployed By")."""
        context = await self._context(group)
        return await asyncio.to_thread(context.store.serving, model)

    def upstream(self, group: str, name: str) -> Upstream:
        """Where a member's request to a local deployment goes (the proxy's target)."""
        self.access.binding(group)  # the user must be in the group
        upstream = self.servers.upstream((group, name))
        if upstream is None:
            raise ApiError(
                503 if (group, name) in self._active else 404,
                "not_found",
                f"Group '{group}' has no local deployment '{name}' serving now: list the group's "
                "deployments to see what serves.",
            )
        return upstream

    def job(self, job_id: str) -> Job:
        job = self.jobs.get(job_id)
        if job is None:
            raise ApiError(404, "not_found", f"There is no deployment job '{job_id}'.")
        self.access.binding(job.group)  # the user must (still) be in the job's group
        return job

    # -- changing --------------------------------------------------------------------------------

    async def deploy(
        self,
        group: str,
        name: str,
        model: str,
        version: str,
        follow: bool = False,
        following: str | None = None,
    ) -> Job:
        """Start a job that makes deployment `name` serve `models:/model/version`; with
        `follow` (`version` an @alias), the deployment follows the alias from then on;
        `following`: the version the alias moved to (a job the alias's move started)."""
        try:
            check_deployment_name(name)
        except UnsafePath as error:
            raise ApiError(400, "bad_request", str(error)) from None
        if not isinstance(model, str) or not model:
            raise ApiError(400, "bad_request", "Name the registered model to deploy.")
        if not isinstance(version, str) or not (
            version.isdigit() or (version.startswith("@") and len(version) > 1)
        ):
            raise ApiError(
                400, "bad_request", f"'{version}' is neither a version number nor an @alias."
            )
        if follow and not version.startswith("@"):
            raise ApiError(
                400,
                "bad_request",
                f"A deployment follows an alias, not version {version}.",
                "Deploy an alias, like @champion, to follow it.",
            )
        context = await self._context(group)
        self.access.start_managed(context.binding)
        try:  # its directory becomes ours before anything is written (or a job starts)
            await asyncio.to_thread(DeploymentLayout(context.root, name).claim)
        except UnsafePath as error:
            raise ApiError(409, "conflict", str(error)) from None
        if self._stopped:
            raise Stopping("a deployment job")
        running = self._active.get((group, name))  # from here on, no await until registered
        if running is not None:
            raise busy(running)
        job = Job(
            group=group,
            deployment=name,
            model=model,
            requested=version,
            created_by=self.access.user,
            follow=follow,
            following=following,
        )
        self.jobs[job.id] = job
        self._active[(group, name)] = job
        self._queued[job.id] = self._spawn(self._run(job, context))
        self.on_change(group)  # a job works on it now
        self.log.info(
            "MLflow groups: job %s deploys %s %s to %s/%s", job.id, model, version, group, name
        )
        return job

    async def cancel(self, job_id: str) -> Job:
        job = self.job(job_id)
        if job.finished:
            return job
        if not job.cancellable:  # swapping or serving: the switch-over has begun
            raise ApiError(
                409,
                "conflict",
                f"The deployment '{job.deployment}' is already switching over to version "
                f"{job.version}: too late to cancel; it will finish in a moment.",
                "Wait for it to finish. To go back, deploy the version it served before again.",
            )
        job.cancel_requested = True
        if job.state == "queued":
            self._queued[job.id].cancel()
        elif job.process is not None and job.process.returncode is None:
            job.process.terminate()
        return job

    async def delete(self, group: str, name: str) -> dict[str, Any]:
        context, record = await self._idle(group, name)
        await self._stop_serving((group, name))
        if record.target != LOCAL:
            try:
                await publish(record.target, "delete", name, None, context.env, context.secrets)
            except ServingError as error:
                raise ApiError(502, "mlflow_error", str(error)) from None
        layout = DeploymentLayout(context.root, name)
        await asyncio.to_thread(layout.remove)
        await asyncio.to_thread(context.store.delete, name)
        self.on_change(group)
        return {"group": group, "deleted": name}

    async def stop(self, group: str, name: str) -> dict[str, Any]:
        """Stop a local deployment's model server and record it `stopped`: it stays stopped
        (a Jupyter start serves only what was serving) until started or deployed again."""
        context, record = await self._idle(group, name)
        self._local_only(record, "stopped")
        await self._stop_serving((group, name))
        await asyncio.to_thread(context.store.set_status, name, "stopped", None)
        self.on_change(group)
        return await self.get(group, name)

    async def start(self, group: str, name: str) -> dict[str, Any]:
        """Serve a local deployment again from its current release: `starting` now, `serving`
        (or `failed`, with why) once its model server answers."""
        context, record = await self._idle(group, name)
        self._local_only(record, "started")
        if self._stopped:
            raise Stopping("a model server")
        key = (group, name)
        if not (self.servers.running(key) or key in self._starting):
            await asyncio.to_thread(context.store.set_status, name, "starting", None)
            self._serve_again(context, record)
            self.on_change(group)
        return await self.get(group, name)

    async def _idle(self, group: str, name: str) -> tuple[_Context, DeploymentRecord]:
        """The deployment's context and record: 404 if it has none, 409 while a job runs."""
        context = await self._context(group)
        running = self._active.get((group, name))
        if running is not None:
            raise busy(running)
        record = await asyncio.to_thread(context.store.get, name)
        if record is None:
            raise unknown_deployment(group, name)
        return context, record

    @staticmethod
    def _local_only(record: DeploymentRecord, done: str) -> None:
        if record.target != LOCAL:
            raise ApiError(
                409,
                "conflict",
                f"The deployment '{record.name}' is served by the '{record.target}' target, "
                f"not by this Jupyter server: it cannot be {done} from here.",
                "Manage it with that target's own tools, or remove it.",
            )

    async def _stop_serving(self, key: tuple[str, str]) -> None:
        """Stop a deployment's model server, and its start if one is under way."""
        starting = self._starting.pop(key, None)
        if starting is not None:
            starting.cancel()
            await asyncio.gather(starting, return_exceptions=True)
        await self.servers.stop(key)

    def _serve_again(self, context: _Context, record: DeploymentRecord) -> None:
        key = (context.binding.name, record.name)
        task = self._spawn(self._resume(context, record))
        self._starting[key] = task

        def forget(done: asyncio.Task[Any]) -> None:
            if self._starting.get(key) is done:  # not a later start of the same deployment
                del self._starting[key]

        task.add_done_callback(forget)

    # -- lifecycle -------------------------------------------------------------------------------

    async def startup(self) -> None:
        """Remove staging copies of jobs that died with a previous server; serve again what was
        serving (in the background: Jupyter's start-up does not wait for model servers)."""
        try:
            await self._put_back()
        finally:
            self._resumed.set()
        if self.follower.interval > 0 and not self._stopped:
            self._spawn(self.follower.run())  # cancelled with the other tasks at shutdown

    async def _put_back(self) -> None:
        for binding in self.access.bindings_for_startup():
            try:
                context = await self._context_for(binding)
            except Exception as error:  # a group whose area cannot be opened: say so, go on
                self.log.warning(
                    "MLflow groups: deployments of '%s' unavailable: %s", binding.name, error
                )
                continue
            for record in await asyncio.to_thread(context.store.all):
                if record.status in ("serving", "starting") and record.target == LOCAL:
                    await asyncio.to_thread(context.store.set_status, record.name, "starting")
                    self._serve_again(context, record)
            for staging in await asyncio.to_thread(leftover_staging, context.root):
                self.log.info(
                    "MLflow groups: removing %s, left by a job that did not finish", staging
                )
                await asyncio.to_thread(shutil.rmtree, staging, True)

    async def shutdown(self) -> None:
        """Stop running copies (their staging is removed at the next start), jobs and model
        servers, and wait for them: nothing of ours outlives the Jupyter server, and nothing
        new starts."""
        self._stopped = True
        copies = [
            job.process
            for job in self._active.values()
            if job.process is not None and job.process.returncode is None
        ]
        for job in self._active.values():
            job.cancel_requested = True
        for process in copies:
            process.terminate()
        await asyncio.gather(*(_until_exited(process) for process in copies))
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.servers.stop_all()

    # -- the job ---------------------------------------------------------------------------------

    async def _run(self, job: Job, context: _Context) -> None:
        layout = DeploymentLayout(context.root, job.deployment)
        try:
            async with self._copy_slots:  # a bounded number of copies at once; others queue
                outcome = await self._attempt(job, context, layout)
                # its staging copy is gone before anyone sees the job end or the next one start
                await asyncio.to_thread(layout.discard_staging, job.id)
        except asyncio.CancelledError:
            if not job.cancel_requested:
                raise  # the server stops
            outcome = "cancelled"  # while queued: nothing was staged
        self._active.pop((job.group, job.deployment), None)
        self._queued.pop(job.id, None)
        if isinstance(outcome, tuple):
            job.fail(*outcome)
            if job.following:  # the previous version serves on: say why it is not the new one
                await self._unfollowed(job, context, outcome[1])
        else:
            job.end(outcome)
        self.on_change(job.group)
        self.log.info("MLflow groups: job %s %s", job.id, job.state)

    async def _unfollowed(self, job: Job, context: _Context, reason: str) -> None:
        record = await asyncio.to_thread(context.store.get, job.deployment)
        if record is None:
            return
        message = (
            f"Could not follow {job.requested} to v{job.following}: {reason}. "
            f"v{record.version} serves on; the next move of {job.requested} is tried again."
        )
        await asyncio.to_thread(context.store.set_message, job.deployment, message)
        self.on_change(job.group)

    async def _attempt(
        self, job: Job, context: _Context, layout: DeploymentLayout
    ) -> str | tuple[str, str]:
        """Copy, then switch: `done` or `cancelled`, else (error code, message)."""
        if job.cancel_requested:  # cancelled while queued
            return "cancelled"
        try:
            verified = await self._copy(job, context, layout)
            if job.cancel_requested:
                return "cancelled"
            if job.error is not None:
                return job.error["code"], job.error["message"]
            if not verified:
                return "mlflow_error", "the copy process ended without finishing its work"
            await self._switch(job, context, layout)
            return "done"
        except ServingError as error:
            return "serving", str(error)
        except UnsafePath as error:
            return "unsafe_path", str(error)
        except Exception as error:  # never leave a job running forever
            self.log.exception("MLflow groups: job %s failed", job.id)
            return "internal_error", redact(f"{error.__class__.__name__}: {error}", context.secrets)

    async def _copy(self, job: Job, context: _Context, layout: DeploymentLayout) -> bool:
        """Run the worker; True when it verified a complete copy in staging."""
        job.state = "planning"
        local = self.access.local_artifacts(context.binding)
        spec = {
            "model": job.model,
            "requested": job.requested,
            "staging": str(layout.staging_for(job.id)),
            "threads": self.copy_threads,
            "timeout": self.copy_timeout,
            "local_artifacts": str(local) if local else None,
            "tracking_socket": self.access.tracking_socket(context.binding),
            "download_hosts": list(context.binding.deploy.download_hosts),
        }
        await asyncio.to_thread(layout.claim)  # UnsafePath: a folder we did not create
        log_path = layout.directory / JOBS_LOG
        with log_path.open("ab") as log:
            job.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "jupyter_mlflow_groups.deploy.worker",
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=log,
                env=context.env,
            )  # fmt: skip
        assert job.process.stdin is not None and job.process.stdout is not None
        job.process.stdin.write(json.dumps(spec).encode())
        await job.process.stdin.drain()
        job.process.stdin.close()
        verified = False
        async for line in job.process.stdout:
            event = _event(line)
            kind = event.get("event")
            if kind == "plan":
                job.planned(
                    str(event["version"]),
                    str(event["source"]),
                    int(event["files"]),
                    int(event["bytes"]),
                )
            elif kind == "progress":
                job.progressed(int(event["bytes"]), int(event["files"]))
            elif kind == "verifying":
                job.state = "verifying"
            elif kind == "verified":
                verified = True
            elif kind == "error":
                job.error = {
                    "code": str(event.get("code")),
                    "message": redact(str(event.get("message")), context.secrets),
                }
        code = await job.process.wait()
        if code < 0 and not job.cancel_requested and job.error is None:
            message = f"the copy process was killed (signal {-code}); nothing was changed"
            job.error = {"code": "killed", "message": message}
        return verified and code == 0

    async def _switch(self, job: Job, context: _Context, layout: DeploymentLayout) -> None:
        """Promote the verified copy, serve it (rolling back if it cannot serve), record it."""
        assert job.version is not None
        job.state = "swapping"
        previous = await asyncio.to_thread(context.store.get, job.deployment)
        previous_release = await asyncio.to_thread(layout.current_release)
        release = await asyncio.to_thread(layout.promote, job.id)
        job.state = "serving"
        target = context.binding.deploy.target
        key = (job.group, job.deployment)
        try:
            if target == LOCAL:
                await self._stop_serving(key)  # a start under way would serve the old release
                await self.servers.start(
                    key, release, context.serving_env, layout.directory, context.secrets
                )
                job.endpoint = self.access.links.deployment(job.group, job.deployment)
                job.invocations_url = f"{job.endpoint}invocations"
            else:
                job.endpoint = await publish(
                    target, "deploy", job.deployment, f"models:/{job.model}/{job.version}",
                    context.env, context.secrets,
                )  # fmt: skip
        except ServingError:
            await self._roll_back(key, layout, previous, previous_release, context)
            raise
        record = DeploymentRecord(
            name=job.deployment, model=job.model, version=job.version, requested=job.requested,
            status="serving", target=target, updated_at=now(), updated_by=job.created_by,
            release=str(release), follow=job.follow,
        )  # fmt: skip
        from_version = previous.version if previous else None
        note = f"followed {job.requested} from v{from_version} to v{job.version}"
        await asyncio.to_thread(
            context.store.switch,
            record,
            job=job.id,
            from_version=from_version,
            note=note if job.following else None,
        )
        await asyncio.to_thread(
            layout.prune, {release} | ({previous_release} if previous_release else set())
        )
        self.on_change(job.group)

    async def _roll_back(
        self,
        key: tuple[str, str],
        layout: DeploymentLayout,
        previous: DeploymentRecord | None,
        previous_release: Path | None,
        context: _Context,
    ) -> None:
        """The new version cannot serve: point back at the previous release and serve it again."""
        if previous is None or previous_release is None:
            await asyncio.to_thread(layout.remove)
            return
        await asyncio.to_thread(layout.point_current_at, previous_release)
        if previous.target == LOCAL:
            try:
                await self.servers.start(
                    key, previous_release, context.serving_env, layout.directory, context.secrets
                )
            except ServingError as error:
                await asyncio.to_thread(context.store.set_status, key[1], "failed", str(error))

    async def _resume(self, context: _Context, record: DeploymentRecord) -> None:
        layout = DeploymentLayout(context.root, record.name)
        release = await asyncio.to_thread(layout.current_release)
        key = (context.binding.name, record.name)
        if release is None:
            await asyncio.to_thread(
                context.store.set_status, record.name, "failed", "its files are gone"
            )
            return
        try:
            await self.servers.start(
                key, release, context.serving_env, layout.directory, context.secrets
            )
        except ServingError as error:
            await asyncio.to_thread(context.store.set_status, record.name, "failed", str(error))
            return
        await asyncio.to_thread(context.store.set_status, record.name, "serving", None)

    # -- helpers ---------------------------------------------------------------------------------

    async def _context(self, group: str) -> _Context:
        return await self._context_for(self.access.binding(group))

    async def _context_for(self, binding: GroupBinding) -> _Context:
        if not binding.valid:
            raise ApiError(
                503,
                "not_configured",
                f"MLflow is not configured for group '{binding.name}', so it has no deployments.",
                HINTS["not_configured"],
            )
        root = self.access.deploy_root(binding)
        store = await self._store_for(binding)
        return _Context(
            binding=binding,
            root=root,
            store=store,
            env=self.access.worker_environment(binding),
            serving_env=self.access.serving_environment(binding),
            secrets=secret_values(binding),
            ui_url=self.access.ui_url(binding),
        )

    async def _store_for(self, binding: GroupBinding) -> DeploymentStore:
        """The group's deployment records (its area made private the first time): all that
        reading them needs, without the environments and secrets a job needs."""
        root = self.access.deploy_root(binding)
        store = self._stores.get(root)
        if store is None:  # two first requests may both open it: keep one
            await asyncio.to_thread(private_root, root, self.log)
            opened = await asyncio.to_thread(DeploymentStore, root / "deployments.sqlite")
            store = self._stores.setdefault(root, opened)
        return store

    def _describe(self, context: _Context, record: DeploymentRecord) -> dict[str, Any]:
        group = context.binding.name
        job = self._active.get((group, record.name))
        endpoint = (
            self.access.links.deployment(group, record.name) if record.target == LOCAL else None
        )
        status = record.status
        if (
            record.target == LOCAL
            and status == "serving"
            and not self.servers.running((group, record.name))
        ):
            status = "stopped" if self._resumed.is_set() else "starting"
        return {
            **{k: v for k, v in record.to_json().items() if k != "release"},
            "group": group,
            "status": "deploying" if job else status,
            "model_uri": f"models:/{record.model}/{record.version}",
            "endpoint": endpoint,
            "invocations_url": f"{endpoint}invocations" if endpoint else None,
            "path": record.release,
            "job": job.id if job else None,
            "ui_url": ui_page(context.ui_url, "models", record.model, "versions", record.version),
        }

    @staticmethod
    def _describe_new(job: Job) -> dict[str, Any]:
        return {
            "name": job.deployment, "group": job.group, "model": job.model, "version": job.version,
            "requested": job.requested, "model_uri": None, "status": "deploying", "endpoint": None,
            "invocations_url": None, "path": None, "target": None, "updated_at": job.created_at,
            "updated_by": job.created_by, "job": job.id, "message": None, "history": [],
            "ui_url": None, "follow": job.follow,
        }  # fmt: skip

    def _spawn(self, coroutine: Awaitable[Any]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task


def unknown_deployment(group: str, name: str) -> ApiError:
    return ApiError(
        404,
        "not_found",
        f"Group '{group}' has no deployment named '{name}'.",
        "Check the name: the group's deployments are listed by %mlflow_group deployments, "
        "DeploymentsPanel() and the sidebar.",
    )


def busy(job: Job) -> ApiError:
    """A deployment that a job is changing: nothing else may change it meanwhile."""
    version = job.requested if job.requested.startswith("@") else f"v{job.requested}"
    return ApiError(
        409,
        "conflict",
        f"The deployment '{job.deployment}' is being updated to {job.model} {version} "
        f"(started by {job.created_by}).",
        "Wait for the update to finish, or cancel it, then try again.",
    )


async def _until_exited(process: asyncio.subprocess.Process, grace: float = 10.0) -> None:
    try:
        await asyncio.wait_for(process.wait(), grace)
    except asyncio.TimeoutError:
        process.kill()
        await process.wait()


def _event(line: bytes) -> dict[str, Any]:
    try:
        event = json.loads(line)
    except ValueError:
        return {}
    return event if isinstance(event, dict) else {}
