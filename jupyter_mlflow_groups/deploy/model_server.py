"""A local deployment's model server: MLflow's own scoring app on a unix socket.

    python -m jupyter_mlflow_groups.deploy.model_server <model directory> <socket path>

It runs the app `mlflow models serve` runs (`mlflow.pyfunc.scoring_server.app`, answering
/ping, /health, /version and /invocations), configured by MLflow's own `get_cmd`; but `mlflow
models serve` listens only on TCP, where anyone on the host could call the model, and this
listens on a socket in a private directory. One process, one worker.
"""

from __future__ import annotations

import os
import sys

APP = "mlflow.pyfunc.scoring_server.app:app"


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    model_dir, socket = argv
    from mlflow.pyfunc import scoring_server

    _, env = scoring_server.get_cmd(model_dir, nworkers=1)  # the variables the app reads
    os.environ.update(env)
    import uvicorn

    uvicorn.run(APP, uds=socket, workers=1, log_level="info")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
