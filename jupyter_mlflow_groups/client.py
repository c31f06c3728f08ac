"""`from jupyter_mlflow_groups.client import ServerClient`, as code written before the client
moved to `jupyter_mlflow_groups.kernel.client` has it."""

from .kernel.client import ApiFailure, NotConnected, ServerClient, kernel_group

__all__ = ["ApiFailure", "NotConnected", "ServerClient", "kernel_group"]
