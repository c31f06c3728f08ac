"""Group bindings: which MLflow instance a group uses, validated field by field.

A binding is parsed from a plain mapping (traitlets config or the bindings file). Parsing never
raises: a binding that is wrong carries its `problems`, each naming the field, so one bad group is
reported and never takes the other groups down.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePath
from typing import Any
from urllib.parse import urlsplit

from .contract import FILE_VARIABLE, GROUP_VARIABLE, TOKEN_VARIABLE, URL_VARIABLE, mask_uri
from .secrets import (
    SecretReferenceError,
    has_references,
    is_public,
    referenced_variables,
    resolve,
    resolved_references,
)

_EXTENSION_VARIABLES = (GROUP_VARIABLE, URL_VARIABLE, TOKEN_VARIABLE, FILE_VARIABLE)

#: What a binding's own fields become in a kernel's environment.
FIELD_VARIABLES = {
    "tracking_uri": "MLFLOW_TRACKING_URI",
    "registry_uri": "MLFLOW_REGISTRY_URI",
    "workspace": "MLFLOW_WORKSPACE",
}

#: MLflow prints a "View run at <tracking URI>" link after each run: for a group reached
#: through Jupyter, an address the member's browser cannot open (our fronts link the UI).
SUPPRESS_URLS_VARIABLE = "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT"

#: Run state that must not survive into a kernel of another group (or a restarted one).
STALE_RUN_STATE = ("MLFLOW_RUN_ID", "MLFLOW_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_NAME")

#: Variables removed from every kernel's environment before the active binding's are set, so
#: nothing leaks from the server's environment or from another group.
BASE_MANAGED_VARIABLES = frozenset(
    {
        *_EXTENSION_VARIABLES,
        *FIELD_VARIABLES.values(),
        *STALE_RUN_STATE,
        "MLFLOW_TRACKING_USERNAME",
        "MLFLOW_TRACKING_PASSWORD",
        "MLFLOW_TRACKING_TOKEN",
        "MLFLOW_TRACKING_INSECURE_TLS",
        "MLFLOW_TRACKING_SERVER_CERT_PATH",
        "MLFLOW_TRACKING_CLIENT_CERT_PATH",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "MLFLOW_S3_ENDPOINT_URL",
        SUPPRESS_URLS_VARIABLE,
    }
)

MODES = ("external", "managed")
#: How members' browsers reach a group's MLflow UI: at its own URL, or through the Jupyter
#: server (which adds the group's credentials itself; a managed group's is only reachable so).
UI_MODES = ("direct", "proxy")
FIELDS = (
    "mode",
    "tracking_uri",
    "ui_url",
    "ui",
    "registry_uri",
    "workspace",
    "tracking_env",
    "artifact_env",
    "members",
    "admins",
    "root",
    "deploy",
    "registry",
)
DEPLOY_FIELDS = ("root", "target", "download_hosts")
REGISTRY_FIELDS = ("write", "protected_aliases", "write_env")
#: Who may change the registry (aliases, tags, descriptions) through Jupyter.
WRITERS = ("members", "admins", "nobody")
#: The credentials `registry.write_env` may hold: the server writes as that MLflow user.
WRITE_CREDENTIALS = (
    "MLFLOW_TRACKING_USERNAME",
    "MLFLOW_TRACKING_PASSWORD",
    "MLFLOW_TRACKING_TOKEN",
)
#: MLflow's rule for alias names, less what it reserves (`latest`, `v<number>`).
ALIAS_NAME = re.compile(r"^(?!latest$)(?!v\d+$)[A-Za-z0-9_-]{1,255}$")

_GROUP_NAME = re.compile(r"^\w[\w.@+-]{0,127}$")
_VARIABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})(:[0-9]{1,5})?$")
_WORKSPACE_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")  # MLflow's own rule
_RESERVED_WORKSPACES = frozenset({"workspaces", "api", "ajax-api", "static-files"})
_URI_SCHEMES = frozenset({"http", "https", "file", "databricks", "databricks-uc", "uc"})
_SQLALCHEMY_DIALECTS = frozenset({"sqlite", "postgresql", "mysql", "mssql"})
_BARE_URIS = frozenset({"databricks", "databricks-uc"})
_TRUE = frozenset({"true", "1", "yes", "on"})
_BOOLEANS = _TRUE | {"false", "0", "no", "off"}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a group's binding, naming the field."""

    group: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"group '{self.group}', field '{self.field}': {self.message}"

    def to_json(self) -> dict[str, str]:
        return {"group": self.group, "field": self.field, "message": self.message}


@dataclass(frozen=True)
class DeploySettings:
    """Where a group's deployments go and what serves them; `download_hosts`: hosts other
    than the tracking server's that copies may download artifacts from (with the group's
    tracking credentials, so the admin must trust them)."""

    root: str | None = None
    target: str = "local"
    download_hosts: tuple[str, ...] = ()


@dataclass(frozen=True)
class RegistryPolicy:
    """Who may change the group's registry through Jupyter; which aliases only an admin may
    move (a member's move becomes a request an admin approves); and, optionally, the MLflow
    credentials the server writes with, so that kernels can hold read-only ones."""

    write: str = "members"
    protected_aliases: tuple[str, ...] = ()
    write_env: Mapping[str, str] = field(default_factory=dict, repr=False)

    def protects(self, alias: str) -> bool:
        return alias in self.protected_aliases


@dataclass(frozen=True)
class GroupBinding:
    """A group bound to an MLflow instance. Values are kept unresolved (with references)."""

    name: str
    mode: str = "external"
    tracking_uri: str | None = None
    ui_url: str | None = None
    ui: str | None = None  # None: the default for the binding (see ui_mode)
    registry_uri: str | None = None
    workspace: str | None = None
    tracking_env: Mapping[str, str] = field(default_factory=dict)
    artifact_env: Mapping[str, str] = field(default_factory=dict)
    members: tuple[str, ...] | None = None  # None: open to every user of the server
    admins: tuple[str, ...] = ()
    root: str | None = None
    deploy: DeploySettings = field(default_factory=DeploySettings)
    registry: RegistryPolicy = field(default_factory=RegistryPolicy)
    problems: tuple[Problem, ...] = ()

    @property
    def valid(self) -> bool:
        return not self.problems

    def admits(self, user: str) -> bool:
        """Whether the config makes `user` a member (admins are members)."""
        return self.members is None or user in self.members or user in self.admins

    def variable_names(self) -> set[str]:
        return {*self.tracking_env, *self.artifact_env}

    def referenced_variables(self) -> set[str]:
        """The server's environment variables this binding's values refer to (`${env:...}`):
        secrets, as far as anyone can tell, so no kernel inherits them from the server."""
        values = [
            self.tracking_uri, self.ui_url, self.registry_uri, self.workspace, self.root,
            self.deploy.root, *self.tracking_env.values(), *self.artifact_env.values(),
            *self.registry.write_env.values(),
        ]  # fmt: skip
        return {name for value in values if value for name in referenced_variables(value)}

    @property
    def ui_mode(self) -> str:
        """`proxy` for a managed group (its server is reachable no other way) and, unless the
        binding says otherwise, for an external group whose UI would ask for credentials (or
        whose URL holds a reference, which may be a secret); `direct` otherwise, and when the
        admin gave the UI's own `ui_url` (a UI behind its own sign-in, say)."""
        if self.mode == "managed":
            return "proxy"
        if self.ui:
            return self.ui
        if self.ui_url:
            return "direct"
        tracking = self.tracking_uri or ""
        if not resolvable_http(tracking):
            return "direct"  # no server to show: kernels use such stores directly
        secret_in_url = has_references(tracking) or urlsplit(tracking).username is not None
        return "proxy" if self.auth_scheme != "none" or secret_in_url else "direct"

    @property
    def direct_ui_url(self) -> str | None:
        """The UI's own URL, for `direct` mode: `ui_url`, else an http(s) tracking URI without
        references or user info (a link must not carry a secret)."""
        if self.ui_url:
            return self.ui_url
        tracking = self.tracking_uri or ""
        if (
            tracking.startswith(("http://", "https://"))
            and not has_references(tracking)
            and urlsplit(tracking).username is None
        ):
            return tracking
        return None

    @property
    def auth_scheme(self) -> str:
        """`basic` when username and password are both set (wins, as in MLflow), else `bearer`."""
        if {"MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"} <= set(self.tracking_env):
            return "basic"
        if "MLFLOW_TRACKING_TOKEN" in self.tracking_env:
            return "bearer"
        return "none"


class UnusableBinding(ValueError):
    """A binding whose kernel environment cannot be produced now (problems, or a reference
    that no longer resolves)."""


def env_for(binding: GroupBinding) -> dict[str, str]:
    """The kernel environment of a binding, references resolved; UnusableBinding otherwise."""
    if binding.problems:
        raise UnusableBinding("; ".join(str(problem) for problem in binding.problems))
    env = {GROUP_VARIABLE: binding.name}
    try:
        for field_name, variable in FIELD_VARIABLES.items():
            value = getattr(binding, field_name)
            if value:
                env[variable] = resolve(value)
        for source in (binding.tracking_env, binding.artifact_env):
            env.update({name: resolve(value) for name, value in source.items()})
    except SecretReferenceError as error:
        raise UnusableBinding(f"group '{binding.name}': {error}") from None
    return env


def group_root(binding: GroupBinding, groups_root: Path) -> Path:
    """The group's directory on the server: its `root`, else <groups_root>/<name>."""
    return Path(binding.root).expanduser() if binding.root else groups_root / binding.name


def secret_values(binding: GroupBinding) -> list[str]:
    """What must never be shown of a binding: the values of its variables that are not public,
    and whatever its references resolve to, wherever they are (a token in a tracking URI)."""
    shown = {*FIELD_VARIABLES.values(), GROUP_VARIABLE, URL_VARIABLE}
    try:
        env = env_for(binding)
    except UnusableBinding:
        env = {}
    values = [value for name, value in env.items() if name not in shown and not is_public(name)]
    fields = [binding.tracking_uri, binding.ui_url, binding.registry_uri, binding.workspace]
    for value in [*fields, *binding.tracking_env.values(), *binding.artifact_env.values()]:
        values += resolved_references(value or "")
    for value in binding.registry.write_env.values():  # never a kernel's: all of it is secret
        values += [value, *resolved_references(value)]
    return values


def writer_env(binding: GroupBinding) -> dict[str, str]:
    """The environment the server writes to the registry with: the binding's, its credentials
    replaced by `registry.write_env` when the admin gave some; UnusableBinding otherwise."""
    write_env = binding.registry.write_env
    if not write_env:
        return env_for(binding)
    tracking = {k: v for k, v in binding.tracking_env.items() if k not in WRITE_CREDENTIALS}
    return env_for(replace(binding, tracking_env={**tracking, **write_env}))


def summarize(binding: GroupBinding) -> dict[str, Any]:
    """The binding as people may see it: URIs without passwords, secret values never shown."""
    return {
        "name": binding.name,
        "mode": binding.mode,
        "tracking_uri": _shown_uri(binding.tracking_uri),
        "ui": binding.ui_mode,
        "registry_uri": _shown_uri(binding.registry_uri),
        "workspace": binding.workspace,
        "auth": binding.auth_scheme,
        "tracking_env": _masked_env(binding.tracking_env),
        "artifact_env": _masked_env(binding.artifact_env),
        "deploy": {"target": binding.deploy.target},
        "registry": {
            "write": binding.registry.write,
            "protected_aliases": list(binding.registry.protected_aliases),
        },
        "valid": binding.valid,
        "problems": [problem.to_json() for problem in binding.problems],
    }


def _shown_uri(value: str | None) -> str | None:
    """A URI as people may see it: without a password, and with its references unresolved
    (whatever they resolve to may be a secret)."""
    if not value:
        return None
    return mask_uri(value) if has_references(value) else mask_uri(resolve(value))


def _masked_env(env: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    shown: dict[str, dict[str, Any]] = {}
    for name, value in env.items():
        if is_public(name):
            try:
                shown[name] = {"set": True, "secret": False, "value": resolve(value)}
            except SecretReferenceError:
                shown[name] = {"set": False, "secret": False, "value": None}
        else:
            shown[name] = {"set": True, "secret": True}
    return shown


def is_valid_group_name(name: str) -> bool:
    return bool(_GROUP_NAME.match(name))


def parse_binding(name: str, raw: Any) -> GroupBinding:
    """Build a binding from a config mapping; every problem found is recorded, none raised."""
    return _Parser(name).parse(raw)


class _Parser:
    """Reads one group's mapping, collecting problems instead of stopping at the first."""

    def __init__(self, group: str) -> None:
        self.group = group
        self.problems: list[Problem] = []

    def problem(self, field_name: str, message: str) -> None:
        self.problems.append(Problem(self.group, field_name, message))

    def parse(self, raw: Any) -> GroupBinding:
        if not is_valid_group_name(self.group):
            self.problem(
                "name",
                "a group name is 1-128 letters, digits or . _ @ + - and starts with a letter "
                "or digit",
            )
        if raw is None:
            raw = {}
        if not isinstance(raw, Mapping):
            self.problem("*", f"a group is a mapping of fields, not {_kind(raw)}")
            return GroupBinding(name=self.group, members=(), problems=tuple(self.problems))
        self._unknown_fields(raw, FIELDS, prefix="")
        mode = self._mode(raw.get("mode", "external"))
        tracking_env = self._env(raw, "tracking_env")
        artifact_env = self._env(raw, "artifact_env")
        binding = GroupBinding(
            name=self.group,
            mode=mode,
            tracking_uri=self._uri(raw, "tracking_uri"),
            ui_url=self._uri(raw, "ui_url", schemes=frozenset({"http", "https"})),
            ui=self._ui(raw.get("ui")),
            registry_uri=self._uri(raw, "registry_uri"),
            workspace=self._workspace(raw.get("workspace")),
            tracking_env=tracking_env,
            artifact_env=artifact_env,
            members=self._users(raw, "members"),
            admins=self._users(raw, "admins") or (),
            root=self._path(raw.get("root"), "root"),
            deploy=self._deploy(raw.get("deploy")),
            registry=self._registry(raw.get("registry")),
        )
        self._check_mode(binding, raw)
        self._check_tls(tracking_env)
        self._check_credentials(tracking_env, "tracking_env")
        self._check_env_overlap(tracking_env, artifact_env)
        return replace(binding, problems=tuple(self.problems))

    def _unknown_fields(self, raw: Mapping[str, Any], known: tuple[str, ...], prefix: str) -> None:
        for key in raw:
            if key not in known:
                hint = difflib.get_close_matches(str(key), known, n=1)
                suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
                self.problem(f"{prefix}{key}", f"unknown field{suggestion}")

    def _mode(self, value: Any) -> str:
        if value in MODES:
            return value
        self.problem("mode", f"must be one of {', '.join(MODES)}")
        return "external"

    def _string(self, value: Any, field_name: str) -> str | None:
        if value is None:
            return None
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (int, float)):
            return str(value)
        if not isinstance(value, str):
            self.problem(field_name, f"must be a string, not {_kind(value)}")
            return None
        if "\x00" in value:
            self.problem(field_name, "must not contain a NUL character")
            return None
        try:
            resolve(value)
        except SecretReferenceError as error:
            self.problem(field_name, str(error))
        return value

    def _uri(
        self, raw: Mapping[str, Any], field_name: str, schemes: frozenset[str] = _URI_SCHEMES
    ) -> str | None:
        value = self._string(raw.get(field_name), field_name)
        if value is None or value == "":
            return None
        try:
            uri = resolve(value)
        except SecretReferenceError:
            return value  # already reported by _string
        reason = _uri_problem(uri, schemes)
        if reason:  # said of the value as written: what a reference resolves to may be secret
            self.problem(field_name, f"{mask_uri(value)!r} {reason}")
        return value

    def _ui(self, value: Any) -> str | None:
        if value is None or value in UI_MODES:
            return value
        self.problem("ui", f"must be one of {', '.join(UI_MODES)}")
        return None

    def _workspace(self, value: Any) -> str | None:
        workspace = self._string(value, "workspace")
        if not workspace:
            return None
        if (
            not 2 <= len(workspace) <= 63
            or not _WORKSPACE_NAME.match(workspace)
            or workspace in _RESERVED_WORKSPACES
        ):
            self.problem(
                "workspace",
                f"{workspace!r} is not an MLflow workspace name: 2-63 lowercase letters, digits "
                "and inner hyphens, not one of " + ", ".join(sorted(_RESERVED_WORKSPACES)),
            )
        return workspace

    def _env(self, raw: Mapping[str, Any], field_name: str, prefix: str = "") -> dict[str, str]:
        value = raw.get(field_name)
        field_name = f"{prefix}{field_name}"
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            self.problem(
                field_name, f"must be a mapping of variable names to values, not {_kind(value)}"
            )
            return {}
        env: dict[str, str] = {}
        for name, item in value.items():
            where = f"{field_name}.{name}"
            if not isinstance(name, str) or not _VARIABLE_NAME.match(name):
                self.problem(where, "is not a valid environment variable name")
                continue
            if name in FIELD_VARIABLES.values():
                owner = next(k for k, v in FIELD_VARIABLES.items() if v == name)
                self.problem(where, f"set the binding's '{owner}' field instead")
                continue
            if name in STALE_RUN_STATE or name in _EXTENSION_VARIABLES:
                self.problem(where, "is set by the extension itself; it cannot be bound")
                continue
            if item is None:
                self.problem(where, "has no value")
                continue
            text = self._string(item, where)
            if text is not None:
                env[name] = text
        return env

    def _users(
        self, raw: Mapping[str, Any], field_name: str, prefix: str = ""
    ) -> tuple[str, ...] | None:
        """A list of names (users, or aliases with `prefix`), each a non-empty string."""
        value = raw.get(field_name)
        field_name = f"{prefix}{field_name}"
        if value is None:
            return None
        if isinstance(value, str) or not isinstance(value, (list, tuple)):
            what = "names" if prefix else "user names"
            self.problem(field_name, f"must be a list of {what}, not {_kind(value)}")
            return ()
        names = []
        for index, name in enumerate(value):
            if not isinstance(name, str) or not name:
                what = "name" if prefix else "user name"
                self.problem(f"{field_name}[{index}]", f"must be a non-empty {what}")
            else:
                names.append(name)
        return tuple(names)

    def _path(self, value: Any, field_name: str) -> str | None:
        path = self._string(value, field_name)
        if path and not PurePath(path).is_absolute() and not path.startswith("~"):
            self.problem(field_name, "must be an absolute path")
        return path or None

    def _deploy(self, value: Any) -> DeploySettings:
        if value is None:
            return DeploySettings()
        if not isinstance(value, Mapping):
            self.problem("deploy", f"must be a mapping with root and target, not {_kind(value)}")
            return DeploySettings()
        self._unknown_fields(value, DEPLOY_FIELDS, prefix="deploy.")
        target = self._string(value.get("target", "local"), "deploy.target") or "local"
        return DeploySettings(
            root=self._path(value.get("root"), "deploy.root"),
            target=target,
            download_hosts=self._hosts(value.get("download_hosts"), "deploy.download_hosts"),
        )

    def _registry(self, value: Any) -> RegistryPolicy:
        if value is None:
            return RegistryPolicy()
        if not isinstance(value, Mapping):
            self.problem(
                "registry",
                f"must be a mapping with write and protected_aliases, not {_kind(value)}",
            )
            return RegistryPolicy()
        self._unknown_fields(value, REGISTRY_FIELDS, prefix="registry.")
        write = value.get("write", "members")
        if write not in WRITERS:
            self.problem("registry.write", f"must be one of {', '.join(WRITERS)}")
            write = "nobody"  # a policy that cannot be read allows nothing
        protected = self._users(value, "protected_aliases", prefix="registry.") or ()
        for index, alias in enumerate(protected):
            if not ALIAS_NAME.match(alias):
                self.problem(
                    f"registry.protected_aliases[{index}]",
                    f"{alias!r} is not an alias name (letters, digits, _ and -; not latest "
                    "nor v<number>)",
                )
        write_env = self._env(value, "write_env", prefix="registry.")
        for name in write_env:
            if name not in WRITE_CREDENTIALS:
                self.problem(
                    f"registry.write_env.{name}",
                    f"only credentials go here ({', '.join(WRITE_CREDENTIALS)})",
                )
        self._check_credentials(write_env, "registry.write_env")
        return RegistryPolicy(write=write, protected_aliases=tuple(protected), write_env=write_env)

    def _hosts(self, value: Any, field_name: str) -> tuple[str, ...]:
        if value is None:
            return ()
        if isinstance(value, str) or not isinstance(value, (list, tuple)):
            self.problem(field_name, f"must be a list of host names, not {_kind(value)}")
            return ()
        hosts = []
        for index, host in enumerate(value):
            if not isinstance(host, str) or not _HOST.match(host):
                self.problem(f"{field_name}[{index}]", "must be a host name, or host:port")
            else:
                hosts.append(host.lower())
        return tuple(hosts)

    def _check_mode(self, binding: GroupBinding, raw: Mapping[str, Any]) -> None:
        reported = any(problem.field == "tracking_uri" for problem in self.problems)
        if binding.mode == "external" and not binding.tracking_uri and not reported:
            self.problem(
                "tracking_uri",
                "is required for an external group (or set mode: managed to let the extension "
                "run the group's MLflow server)",
            )
        if binding.mode == "managed" and binding.ui == "direct":
            self.problem(
                "ui", "a managed group's MLflow is reachable only through Jupyter: remove ui"
            )
        if (
            binding.mode == "external"
            and binding.ui == "proxy"
            and binding.tracking_uri
            and not resolvable_http(binding.tracking_uri)
        ):
            self.problem(
                "ui",
                "only an http(s) tracking server's UI can be shown through Jupyter (set ui: direct "
                "and ui_url, or bind an http(s) tracking_uri)",
            )
        if binding.mode == "managed" and raw.get("tracking_uri"):
            self.problem(
                "tracking_uri",
                "a managed group gets its tracking URI from the server the extension runs: "
                "remove tracking_uri, or set mode: external",
            )

    def _check_credentials(self, env: Mapping[str, str], field_name: str) -> None:
        has_user = "MLFLOW_TRACKING_USERNAME" in env
        has_password = "MLFLOW_TRACKING_PASSWORD" in env
        if has_user != has_password:
            missing = "MLFLOW_TRACKING_PASSWORD" if has_user else "MLFLOW_TRACKING_USERNAME"
            self.problem(
                f"{field_name}.{missing}",
                "Basic authentication needs both MLFLOW_TRACKING_USERNAME and "
                "MLFLOW_TRACKING_PASSWORD (or use MLFLOW_TRACKING_TOKEN alone)",
            )

    def _check_tls(self, env: Mapping[str, str]) -> None:
        insecure = env.get("MLFLOW_TRACKING_INSECURE_TLS")
        if insecure is not None:
            if insecure.strip().lower() not in _BOOLEANS:
                self.problem(
                    "tracking_env.MLFLOW_TRACKING_INSECURE_TLS",
                    f"{insecure!r} is not a boolean (true or false)",
                )
            elif insecure.strip().lower() in _TRUE and env.get("MLFLOW_TRACKING_SERVER_CERT_PATH"):
                self.problem(
                    "tracking_env.MLFLOW_TRACKING_INSECURE_TLS",
                    "cannot be true together with MLFLOW_TRACKING_SERVER_CERT_PATH: "
                    "verify with the certificate, or do not verify at all",
                )

    def _check_env_overlap(self, tracking: Mapping[str, str], artifact: Mapping[str, str]) -> None:
        for name in sorted(set(tracking) & set(artifact)):
            self.problem(f"artifact_env.{name}", "is also set in tracking_env")
        for name in sorted(artifact):
            if name.startswith("MLFLOW_TRACKING_"):
                self.problem(f"artifact_env.{name}", "belongs in tracking_env")


def resolvable_http(uri: str) -> bool:
    """Whether `uri` resolves (now) to an http(s) URL."""
    try:
        return resolve(uri).startswith(("http://", "https://"))
    except SecretReferenceError:
        return False


def insecure_tls(binding: GroupBinding) -> bool:
    """Whether the binding turns TLS verification off (MLFLOW_TRACKING_INSECURE_TLS)."""
    value = binding.tracking_env.get("MLFLOW_TRACKING_INSECURE_TLS", "false")
    return value.strip().lower() in _TRUE


def _uri_problem(uri: str, schemes: frozenset[str]) -> str | None:
    if uri in _BARE_URIS:
        return None if uri in schemes else "is not an http(s) URL"
    try:
        parts = urlsplit(uri)
    except ValueError as error:
        return f"is not a URI ({error})"
    scheme = parts.scheme.lower()
    dialect = scheme.split("+", 1)[0]
    if scheme in schemes:
        if scheme in ("http", "https") and not parts.hostname:
            return "has no host"
        if scheme == "file" and not parts.path.startswith("/"):
            return "must be file:///absolute/path"
        return None
    if dialect in _SQLALCHEMY_DIALECTS and schemes is _URI_SCHEMES:
        return None
    if not scheme:
        return "has no scheme: use http(s)://host, file:///path, sqlite:///path or databricks"
    known = sorted(schemes) + (
        [f"{d}[+driver]" for d in sorted(_SQLALCHEMY_DIALECTS)] if schemes is _URI_SCHEMES else []
    )
    return f"has an unsupported scheme '{scheme}' (known: {', '.join(known)})"


def _kind(value: Any) -> str:
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, str):
        return "a string"
    return "null" if value is None else type(value).__name__
