"""Failures of a copy job, in the API's vocabulary (codes as in errors.HINTS)."""

from __future__ import annotations


class CopyError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Stopped(Exception):
    """The job was asked to stop (cancel): not a failure."""
