"""Where a deployment's files live, and the atomic switch between releases.

    <deploy root>/<name>/
        .jupyter-mlflow-groups           our marker: the directory is the extension's
        current   -> releases/<job id>   a symlink, replaced atomically (rename over it)
        releases/<job id>/               complete, verified copies of a version's artifacts
        staging/<job id>/                copies in progress; never served, removed on failure
        jobs.log, serve.log, serve.pid   the copy jobs' and the model server's

A copy lands in staging; only once verified is it renamed into releases/ (same filesystem, so
the rename is atomic) and `current` re-pointed with one `rename(2)`. A job that fails, is
cancelled or killed never touches `current` or a release; its staging is removed then, or at the
next server start.

The extension never deletes what it did not create: a deployment's directory is claimed (created
with the marker) before anything is written in it, a directory of the same name that exists
without the marker (an admin's own folder) is refused, and removal deletes only the entries
above, then the directory if nothing else is left in it.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import stat
import tempfile
from pathlib import Path, PurePosixPath

_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
#: The file that marks a deployment directory as created by the extension.
MARKER = ".jupyter-mlflow-groups"
#: The files the extension writes in a deployment's directory, removed with the deployment.
JOBS_LOG, SERVE_LOG, SERVE_PID = "jobs.log", "serve.log", "serve.pid"
OWN_FILES = (JOBS_LOG, SERVE_LOG, SERVE_PID)


class UnsafePath(ValueError):
    """A name or an artifact path that would leave its directory."""


def check_deployment_name(name: str) -> str:
    """Deployment names are DNS labels, so that any serving target accepts them."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise UnsafePath(
            f"'{name}' is not a valid deployment name: use 1-63 lowercase letters, digits and "
            "inner hyphens (like fraud-detector-prod)"
        )
    return name


def safe_relative(path: str) -> PurePosixPath:
    """An artifact path as a relative path that stays inside its directory; UnsafePath else."""
    candidate = PurePosixPath(path)
    if (
        not path
        or "\x00" in path
        or "\\" in path
        or candidate.is_absolute()
        or any(part in ("..", "") for part in candidate.parts)
    ):
        raise UnsafePath(f"the artifact path {path!r} would leave the deployment directory")
    return candidate


class DeploymentLayout:
    """The directories of one deployment."""

    def __init__(self, root: Path, name: str) -> None:
        self.name = check_deployment_name(name)
        self.directory = root / name
        self.current = self.directory / "current"
        self.releases = self.directory / "releases"
        self.staging = self.directory / "staging"

    def claim(self) -> None:
        """Make the deployment's directory ours before anything is written in it: accept it if
        it has our marker, refuse it (UnsafePath) if it exists without (a folder of the admin's
        that happens to have the deployment's name: nothing of it is touched), else create it.
        It appears with its marker already inside (made aside, then renamed into place), so a
        concurrent claim, in this process or another, never sees it half-made."""
        if not os.path.lexists(self.directory):
            root = self.directory.parent
            root.mkdir(parents=True, exist_ok=True)
            aside = Path(tempfile.mkdtemp(prefix=f".claim-{self.name}-", dir=root))
            (aside / MARKER).write_text(
                "Created by jupyter-mlflow-groups for a deployment; removed with it.\n"
            )
            try:
                os.rename(aside, self.directory)
                return
            except OSError:  # claimed meanwhile (rename never replaces a non-empty directory)
                shutil.rmtree(aside)
        if not is_ours(self.directory):
            raise UnsafePath(
                f"{self.directory} exists and was not created by jupyter-mlflow-groups: "
                "choose another deployment name or remove it"
            )

    def staging_for(self, job_id: str) -> Path:
        return self.staging / job_id

    def current_release(self) -> Path | None:
        if not self.current.is_symlink():
            return None
        return (self.directory / os.readlink(self.current)).resolve()

    def promote(self, job_id: str) -> Path:
        """Move a verified staging copy into releases/ and point `current` at it, atomically."""
        release = self.releases / job_id
        self.releases.mkdir(parents=True, exist_ok=True)
        os.rename(self.staging_for(job_id), release)
        self.point_current_at(release)
        return release

    def point_current_at(self, release: Path) -> None:
        link = self.directory / f".current-{os.getpid()}"
        link.unlink(missing_ok=True)
        os.symlink(release.relative_to(self.directory), link)
        os.rename(link, self.current)  # rename(2) over the old link: never a moment without one

    def prune(self, keep: set[Path]) -> None:
        """Remove releases no longer needed (keep the current and the given ones)."""
        current = self.current_release()
        for release in self.releases.glob("*") if self.releases.exists() else ():
            if release.resolve() not in {p.resolve() for p in keep} | {current}:
                shutil.rmtree(release, ignore_errors=True)

    def discard_staging(self, job_id: str | None = None) -> None:
        """Remove one job's staging copy, or every one (at start-up: leftovers of dead jobs)."""
        target = self.staging_for(job_id) if job_id else self.staging
        shutil.rmtree(target, ignore_errors=True)

    def remove(self) -> None:
        """Delete what the extension created in the deployment's directory, then the directory if
        nothing else is left in it; a directory without our marker is left alone entirely."""
        if not is_ours(self.directory):
            return
        for directory in (self.releases, self.staging):
            shutil.rmtree(directory, ignore_errors=True)  # refuses to follow a symlink
        links = [self.current, *self.directory.glob(".current-*")]  # .current-*: switches cut short
        files = [self.directory / name for name in OWN_FILES]
        for path in [*(link for link in links if link.is_symlink()), *files]:
            with contextlib.suppress(OSError):  # gone already, or not a file: not ours
                path.unlink()
        with contextlib.suppress(OSError):  # gone meanwhile, or something was written in it
            if [path.name for path in self.directory.iterdir()] == [MARKER]:
                (self.directory / MARKER).unlink()
                self.directory.rmdir()


def is_ours(directory: Path) -> bool:
    """Whether `directory` is a real directory (not a symlink) holding our marker file."""
    try:
        directory_mode = os.lstat(directory).st_mode
        marker_mode = os.lstat(directory / MARKER).st_mode
    except OSError:
        return False
    return stat.S_ISDIR(directory_mode) and stat.S_ISREG(marker_mode)


def leftover_staging(root: Path) -> list[Path]:
    """Staging directories under a deploy root (each belongs to a job that did not finish), in
    deployment directories of ours only."""
    if not root.is_dir():
        return []
    return [
        path for path in root.glob("*/staging/*") if path.is_dir() and is_ours(path.parent.parent)
    ]
