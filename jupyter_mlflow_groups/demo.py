"""A realistic registry for the demo: small scikit-learn models, trained for real.

Three registered models with several versions each, every version a scikit-learn pipeline
(scaler and SGD model, so it takes the raw features) from its own run with parameters, a metric
history per epoch, tags, a signature and an input example; `champion` on the best version,
`challenger` on the runner-up. Seeding is idempotent: a model already seeded by this version of
the demo is left alone, so running it twice gives the same registry.
"""

from __future__ import annotations

import contextlib
import io
import logging
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

DEMO_TAG = "demo.seeded"
DEMO_VERSION = "1"
EXPERIMENT = "demo"


@dataclass(frozen=True)
class Candidate:
    """One version to register: how to train it and what to call it."""

    description: str
    params: dict[str, Any]
    train: Callable[
        [Any, Any, Any, Any, Callable[[dict[str, float], int], None]], tuple[Any, float]
    ]


def _sgd_classifier(
    alpha: float, epochs: int = 30, loss: str = "log_loss"
) -> Callable[..., tuple[Any, float]]:
    def train(
        x_train: Any, y_train: Any, x_test: Any, y_test: Any, log: Callable[..., None]
    ) -> tuple[Any, float]:
        import numpy as np
        from sklearn.linear_model import SGDClassifier
        from sklearn.metrics import accuracy_score, log_loss

        model = SGDClassifier(loss=loss, alpha=alpha, random_state=7)
        classes = np.unique(y_train)
        accuracy = 0.0
        for epoch in range(epochs):
            model.partial_fit(x_train, y_train, classes=classes)
            accuracy = accuracy_score(y_test, model.predict(x_test))
            metrics = {"val_accuracy": accuracy}
            if hasattr(model, "predict_proba"):  # probabilistic losses: the training log loss too
                metrics["train_loss"] = log_loss(
                    y_train, model.predict_proba(x_train), labels=classes
                )
            log(metrics, epoch)
        return model, accuracy

    return train


def _sgd_regressor(alpha: float, epochs: int = 40) -> Callable[..., tuple[Any, float]]:
    def train(
        x_train: Any, y_train: Any, x_test: Any, y_test: Any, log: Callable[..., None]
    ) -> tuple[Any, float]:
        from sklearn.linear_model import SGDRegressor
        from sklearn.metrics import mean_squared_error, r2_score

        model = SGDRegressor(alpha=alpha, learning_rate="invscaling", random_state=7)
        r2 = 0.0
        for epoch in range(epochs):
            model.partial_fit(x_train, y_train)
            predictions = model.predict(x_test)
            r2 = r2_score(y_test, predictions)
            log({"val_rmse": mean_squared_error(y_test, predictions) ** 0.5, "val_r2": r2}, epoch)
        return model, r2

    return train


def _models() -> dict[str, tuple[str, str, list[Candidate]]]:
    """name -> (dataset, description, versions)."""
    return {
        "iris-classifier": (
            "iris",
            "Iris species from sepal and petal sizes (SGD, logistic loss).",
            [
                Candidate(
                    "Strong regularisation", {"alpha": 0.01, "epochs": 30}, _sgd_classifier(0.01)
                ),
                Candidate(
                    "Medium regularisation", {"alpha": 0.001, "epochs": 30}, _sgd_classifier(0.001)
                ),
                Candidate(
                    "Light regularisation", {"alpha": 0.0001, "epochs": 30}, _sgd_classifier(0.0001)
                ),
            ],
        ),
        "diabetes-progression": (
            "diabetes",
            "Disease progression after one year (SGD regression).",
            [
                Candidate("Baseline", {"alpha": 0.001, "epochs": 40}, _sgd_regressor(0.001)),
                Candidate(
                    "More regularisation", {"alpha": 0.01, "epochs": 40}, _sgd_regressor(0.01)
                ),
            ],
        ),
        "wine-cultivar": (
            "wine",
            "Wine cultivar from its chemical analysis (linear classifiers, SGD).",
            [
                Candidate(
                    "Hinge loss (a linear SVM)",
                    {"loss": "hinge", "alpha": 0.001},
                    _sgd_classifier(0.001, loss="hinge"),
                ),
                Candidate(
                    "Modified Huber loss",
                    {"loss": "modified_huber", "alpha": 0.001},
                    _sgd_classifier(0.001, loss="modified_huber"),
                ),
            ],
        ),
    }


def _dataset(name: str) -> tuple[Any, Any, Any, Any, Any]:
    """Train/test splits of raw features, and a scaler fitted on the training part."""
    from sklearn import datasets
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    loaded = getattr(datasets, f"load_{name}")(as_frame=True)
    x_train, x_test, y_train, y_test = train_test_split(
        loaded.data, loaded.target, test_size=0.25, random_state=7
    )
    scaler = StandardScaler().set_output(transform="pandas").fit(x_train)
    return x_train, x_test, y_train, y_test, scaler


def seed_demo(tracking_uri: str, say: Callable[[str], None] = print) -> dict[str, list[str]]:
    """Register the demo models on `tracking_uri`; returns {model: [versions]}."""
    import mlflow
    from mlflow import MlflowClient
    from mlflow.models import infer_signature
    from sklearn.pipeline import make_pipeline

    mlflow.set_tracking_uri(tracking_uri)
    client = MlflowClient(tracking_uri)
    mlflow.set_experiment(EXPERIMENT)
    seeded: dict[str, list[str]] = {}
    for name, (dataset, description, candidates) in _models().items():
        existing = _seeded_versions(client, name)
        if len(existing) == len(candidates):
            say(f"  {name}: already there ({len(existing)} versions)")
            seeded[name] = existing
            continue
        x_train, x_test, y_train, y_test, scaler = _dataset(dataset)
        scores: dict[str, float] = {}
        for candidate in candidates[len(existing) :]:
            with (
                _quiet(),
                mlflow.start_run(run_name=f"{name}: {candidate.description.lower()}"),
            ):
                mlflow.log_params(candidate.params)
                mlflow.set_tags({"dataset": dataset, "framework": "scikit-learn", "team": "demo"})
                estimator, score = candidate.train(
                    scaler.transform(x_train),
                    y_train,
                    scaler.transform(x_test),
                    y_test,
                    _metric_logger(mlflow),
                )
                model = make_pipeline(scaler, estimator)  # takes the raw features
                info = mlflow.sklearn.log_model(
                    model,
                    name="model",
                    registered_model_name=name,
                    signature=infer_signature(x_test, model.predict(x_test)),
                    input_example=x_test.head(3),
                )
            version = str(info.registered_model_version)
            client.update_model_version(name, version, description=candidate.description)
            scores[version] = score
            say(f"  {name}: version {version} ({candidate.description}, score {score:.3f})")
        client.update_registered_model(name, description=description)
        client.set_registered_model_tag(name, "dataset", dataset)
        client.set_registered_model_tag(name, DEMO_TAG, DEMO_VERSION)
        _set_aliases(client, name)
        seeded[name] = _seeded_versions(client, name)
    return seeded


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Without MLflow's own chatter (run links, "Created version", schema hints): the demo
    says what it seeded in one line per version."""
    mlflow_logger = logging.getLogger("mlflow")
    level = mlflow_logger.level
    mlflow_logger.setLevel(logging.WARNING)
    try:
        with (
            contextlib.redirect_stdout(io.StringIO()),
            contextlib.redirect_stderr(io.StringIO()),
            warnings.catch_warnings(),
        ):
            warnings.simplefilter("ignore")
            yield
    finally:
        mlflow_logger.setLevel(level)


def _metric_logger(mlflow: Any) -> Callable[[dict[str, float], int], None]:
    def log(metrics: dict[str, float], step: int) -> None:
        mlflow.log_metrics({key: float(value) for key, value in metrics.items()}, step=step)

    return log


def _seeded_versions(client: Any, name: str) -> list[str]:
    from mlflow.exceptions import MlflowException

    try:
        client.get_registered_model(name)
    except MlflowException:
        return []
    versions = client.search_model_versions(f"name='{name}'")
    return sorted((str(v.version) for v in versions), key=int)


def _set_aliases(client: Any, name: str) -> None:
    """champion: the best validation score; challenger: the runner-up."""
    scored = []
    for version in client.search_model_versions(f"name='{name}'"):
        metrics = client.get_run(version.run_id).data.metrics
        score = metrics.get("val_accuracy", metrics.get("val_r2", 0.0))
        scored.append((score, int(version.version)))
    ranked = [str(version) for _, version in sorted(scored, reverse=True)]
    client.set_registered_model_alias(name, "champion", ranked[0])
    if len(ranked) > 1:
        client.set_registered_model_alias(name, "challenger", ranked[1])
