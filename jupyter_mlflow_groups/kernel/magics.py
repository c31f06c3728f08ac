"""`%mlflow_group`: which group and MLflow this kernel uses, switching group, the registry.

Loaded in every IPython kernel the server starts (the provisioner adds `--ext`), and by
`%load_ext jupyter_mlflow_groups` in any IPython. Loading must cost a kernel nothing, so this
module holds only the magic and its help, with what IPython already has; the sub-commands
(`commands/`) are imported by the first use of the magic.
"""

from __future__ import annotations

from typing import Any

from IPython.core.magic import Magics, line_magic, magics_class

USAGE = """\
%mlflow_group [COMMAND]: this kernel's MLflow group, switching group, the group's registry

  %mlflow_group                    this kernel's group, its binding (secrets masked), status
  %mlflow_group list               your groups, the active one marked
  %mlflow_group use NAME           switch the active group, and this kernel, to NAME
  %mlflow_group status [NAME]      is the group's MLflow usable? if not, what to do
  %mlflow_group env                this kernel's MLflow variables, secrets masked
  %mlflow_group models [FILTER]    the group's registered models, as a pandas DataFrame
  %mlflow_group versions NAME      a model's versions, as a pandas DataFrame
  %mlflow_group show NAME VERSION  a version's details (VERSION: a number or @alias)
  %mlflow_group compare NAME VERSION VERSION... [--diff]
                                   versions side by side (metrics, best marked;
                                   params; tags), as a pandas DataFrame
  %mlflow_group promote NAME VERSION @ALIAS [--reason TEXT]
                                   point an alias at a version (a protected
                                   alias: a request the group's admins review)
  %mlflow_group unalias NAME @ALIAS [--reason TEXT]
                                   remove an alias (or ask to)
  %mlflow_group requests [--all]   the group's pending alias requests
  %mlflow_group approve REQUEST [--comment TEXT]
  %mlflow_group reject REQUEST [--comment TEXT]
                                   decide a request (the group's admins)
  %mlflow_group browse             the model browser
  %mlflow_group deploy NAME VERSION [--to DEPLOYMENT] [--follow]
                                   deploy a version, following the copy live
                                   (--follow, for an @alias: redeploy when it moves)
  %mlflow_group deployments        the group's deployments, as a pandas DataFrame
  %mlflow_group stop DEPLOYMENT    stop serving a deployment (it stays stopped)
  %mlflow_group start DEPLOYMENT   serve a stopped deployment again; how to call it
  %mlflow_group remove DEPLOYMENT  stop a deployment and delete it
  %mlflow_group --help             this text (COMMAND --help: one command's)

Examples:
  %mlflow_group use team-b
  df = %mlflow_group models name LIKE '%fraud%'
  %mlflow_group versions fraud detector
  %mlflow_group show fraud detector @champion
  %mlflow_group compare fraud detector 3 @champion --diff
  %mlflow_group promote fraud detector 4 @champion --reason "better recall"
  %mlflow_group deploy fraud detector @champion --to fraud-prod
  %mlflow_group stop fraud-prod
"""


@magics_class
class MlflowGroupMagics(Magics):
    """The `%mlflow_group` line magic."""

    @line_magic
    def mlflow_group(self, line: str = "") -> Any:
        if line.strip() in ("-h", "--help", "help"):
            print(USAGE)
            return None
        from .commands import run

        return run(line)

    mlflow_group.__doc__ = USAGE


def load_ipython_extension(ipython: Any) -> None:
    """`%load_ext jupyter_mlflow_groups`, or `--ext` on a kernel's command line."""
    ipython.register_magics(MlflowGroupMagics)
