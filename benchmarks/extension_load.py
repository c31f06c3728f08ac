"""Loading the kernel extension (`%load_ext jupyter_mlflow_groups`, what `--ext` does in every
kernel): this checkout against another git revision, so a change can show it costs kernels
nothing.

Each sample is a fresh Python process that builds a bare IPython shell and times
`extension_manager.load_extension("jupyter_mlflow_groups")` alone; the package is imported
from this checkout or from the revision's copy (`git archive`) by PYTHONPATH. Bytecode is
cached (a PYTHONPYCACHEPREFIX per tree, warmed first), as for an installed package. The two
trees alternate, each pair in turn order, so drift on the machine hits both alike.

    python benchmarks/extension_load.py --against REVISION [--runs 40] [--json load.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
HEAVY = ("mlflow", "requests", "pandas")
SAMPLE = f"""
import json, sys, time
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
started = time.perf_counter()
shell.extension_manager.load_extension("jupyter_mlflow_groups")
elapsed = time.perf_counter() - started
assert "mlflow_group" in shell.magics_manager.magics["line"]
print(json.dumps([elapsed, [name for name in {HEAVY!r} if name in sys.modules]]))
"""


def export(revision: str, into: Path) -> Path:
    """The package as it was at `revision`, in a folder of its own."""
    into.mkdir()
    archive = subprocess.run(
        ["git", "archive", revision, "jupyter_mlflow_groups"],
        cwd=PROJECT,
        capture_output=True,
        check=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def sample(tree: Path, cache: Path) -> float:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(PYTHONPATH=str(tree), PYTHONPYCACHEPREFIX=str(cache))
    result = subprocess.run(
        [sys.executable, "-c", SAMPLE], env=env, cwd=cache, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise RuntimeError(f"loading the extension from {tree} failed:\n{result.stderr}")
    elapsed, heavy = json.loads(result.stdout)
    if heavy:
        raise RuntimeError(f"loading the extension from {tree} imported {heavy}")
    return float(elapsed)


def quartiles(samples: list[float]) -> str:
    low, _, high = statistics.quantiles(samples, n=4)
    return f"{low * 1000:.2f}-{high * 1000:.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--against", required=True, help="a git revision to compare with")
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        trees = {"this checkout": PROJECT, args.against: export(args.against, root / "other")}
        caches = {label: root / f"cache-{index}" for index, label in enumerate(trees)}
        for label, tree in trees.items():
            caches[label].mkdir()
            sample(tree, caches[label])  # writes the bytecode
        samples: dict[str, list[float]] = {label: [] for label in trees}
        for run in range(args.runs):
            order = list(trees) if run % 2 == 0 else list(reversed(trees))
            for label in order:
                samples[label].append(sample(trees[label], caches[label]))
    ours, theirs = samples["this checkout"], samples[args.against]
    ratio = statistics.median(ours) / statistics.median(theirs)
    paired = statistics.median(o / t for o, t in zip(ours, theirs, strict=True))
    print(f"| loading the extension ({args.runs} runs each) | median | interquartile range |")
    print("| --- | --- | --- |")
    for label, values in samples.items():
        print(f"| {label} | {statistics.median(values) * 1000:.2f} ms | {quartiles(values)} |")
    print(f"| ratio of medians | {ratio:.3f} | |")
    print(f"| median of paired ratios | {paired:.3f} | |")
    if args.json:
        args.json.write_text(
            json.dumps({"against": args.against, "samples_s": samples, "ratio": ratio}, indent=2)
        )


if __name__ == "__main__":
    main()
