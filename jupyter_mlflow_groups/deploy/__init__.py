"""Deployments: copy a version's artifacts (a worker process), swap them in, record, serve."""
