"""JupyterLab's load in headless Chromium: the time from navigation to the launcher being
interactive, with our labextension enabled, disabled and not installed, in one run; and what
of the labextension's JavaScript the page fetches at startup and what only when first used.

One real `jupyter lab` (the server extension on, a group `team` bound to a real, seeded `mlflow
server`) serves every page; Debian's Chromium, driven by Playwright, loads `/lab?reset` (the
default layout: the file browser on the left, a launcher in the main area). The three sides
differ only in what JupyterLab reads from disk at each page load:

  enabled         as `pip install` leaves it
  disabled        `jupyter labextension disable jupyter-mlflow-groups` (JupyterLab's own switch,
                  in the page config of this server's private config directory): the page
                  still fetches the labextension's entry module but activates none of its
                  plugins and loads none of its CSS
  not installed   the labextension's folder is left out of the server's labextensions path

Each sample is a fresh browser context (an empty cache): the time runs from the navigation's
start to the frame in which the launcher's first card is on screen, with the splash screen
gone and the card the element a click at its centre would reach (the page's own clock,
`performance.now()`, checked at every animation frame). The same context then loads the page
again: the warm-cache sample. With each time goes the page's main-thread CPU time until then
(Chromium's ThreadTime): the page's own work, which the machine's other load stretches less
than it stretches the time. The sides take turns (rotated each round, so each is first, second
and third alike) after one untimed load of each.

After the rounds, one page with the labextension enabled goes on as a person would (FirstUse):
the MLflow panel opened, a version's page, its deploy and set-alias dialogs, two versions
compared, an artifact previewed. Each of our JavaScript files is listed with its size and the
step at which the page first fetched it (the notebook chart widget's view is not in the tour).

    python benchmarks/lab_load.py [--rounds 15] [--json lab_load.json]
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from jupyter_core.paths import jupyter_data_dir, jupyter_path
from playwright.sync_api import Browser, BrowserContext, CDPSession, Page, expect, sync_playwright
from support.jupyter import JupyterServerProcess
from support.lab import CHROMIUM_FLAGS, LAB_PAGE_CONFIG, VIEWPORT
from support.seeding import seed_previews, seed_registry
from support.servers import start_mlflow, wait_until_healthy
from support.sidebar import SIDEBAR_TAB, Sidebar

EXTENSION = "jupyter-mlflow-groups"
SIDES = ("enabled", "disabled", "not installed")
CACHES = ("cold", "warm")
#: What each sample measures: the time to the launcher being interactive, and the main thread's
#: CPU time meanwhile (Chromium's ThreadTime: the page's own work, not its waiting for the server
#: or for a core of this shared machine), each with a cold and a warm cache.
MEASURES = (*CACHES, *(f"{cache} CPU" for cache in CACHES))
LAB = [sys.executable, "-m", "jupyter", "lab"]
TIMEOUT_MS = 120_000

#: JupyterLab fetches more files than Chromium's default resource timing buffer holds (250).
BUFFER = "performance.setResourceTimingBufferSize(100000)"
#: The launcher is interactive: `performance.now()` of the first frame where it is, else false.
INTERACTIVE = """() => {
  if (document.getElementById('jupyterlab-splash')) return false;
  const card = document.querySelector('.jp-Launcher .jp-LauncherCard');
  if (!card) return false;
  const box = card.getBoundingClientRect();
  if (box.width === 0 || box.height === 0) return false;
  const hit = document.elementFromPoint(box.x + box.width / 2, box.y + box.height / 2);
  return hit !== null && card.contains(hit) && performance.now();
}"""
#: Every file the page fetched (started) up to `until` ms: its URL and body sizes.
RESOURCES = """until => performance.getEntriesByType('resource')
  .filter(entry => entry.startTime <= until)
  .map(entry => ({url: entry.name, encoded: entry.encodedBodySize,
                  decoded: entry.decodedBodySize}))"""


def chromium() -> str:
    """Debian's Chromium (`./scripts/test` installs it): never a browser Playwright downloads."""
    path = shutil.which("chromium")
    if not path:
        raise RuntimeError("Chromium is missing: `apt-get install chromium`")
    return path


def installed_labextensions() -> list[Path]:
    """The folders where a `jupyter lab` of this environment finds labextensions (the current
    user's own data directory left out: the server gets a home of its own)."""
    own = Path(jupyter_data_dir()) / "labextensions"
    return [Path(p) for p in jupyter_path("labextensions") if Path(p) != own and Path(p).is_dir()]


def installed_extension() -> Path:
    """Our labextension's folder as JupyterLab finds it (the first on its path)."""
    for folder in installed_labextensions():
        if (folder / EXTENSION / "package.json").exists():
            return folder / EXTENSION
    raise RuntimeError(f"{EXTENSION} is not installed: run scripts/ensure-venv test")


def labextensions_folder(into: Path) -> Path:
    """A labextensions path of the server's own: a link to each installed labextension (the
    first found of each name), so ours can be taken away and put back between page loads."""
    into.mkdir()
    for folder in installed_labextensions():
        for entry in sorted(folder.iterdir()):
            if not (into / entry.name).exists():
                (into / entry.name).symlink_to(entry)
    return into


def page_configs(env: dict[str, str], config_dir: Path) -> dict[str, str]:
    """The page config with the labextension enabled and disabled, each as JupyterLab's own
    `jupyter labextension enable/disable` writes it into this server's config directory."""
    path = config_dir / "labconfig" / "page_config.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(LAB_PAGE_CONFIG))
    written = {}
    for side, verb in (("disabled", "disable"), ("enabled", "enable")):
        subprocess.run(
            [*LAB[:-1], "labextension", verb, "--level=user", EXTENSION],
            env=env,
            check=True,
            capture_output=True,
        )
        written[side] = path.read_text()
    return written


class Sides:
    """Puts the server's files in the state of one side before a page load."""

    def __init__(self, page_config: Path, configs: dict[str, str], link: Path) -> None:
        self.page_config = page_config
        self.configs = configs
        self.link = link
        self.target = link.readlink()

    def set(self, side: str) -> None:
        self.page_config.write_text(self.configs["disabled" if side == "disabled" else "enabled"])
        if side == "not installed":
            self.link.unlink(missing_ok=True)
        elif not self.link.is_symlink():
            self.link.symlink_to(self.target)


def open_page(browser: Browser) -> tuple[BrowserContext, Page, CDPSession]:
    """A page in a fresh context (an empty cache), with Chromium's performance metrics on."""
    context = browser.new_context(viewport=VIEWPORT)
    context.add_init_script(BUFFER)
    page = context.new_page()
    metrics = context.new_cdp_session(page)
    metrics.send("Performance.enable")
    return context, page, metrics


def until_interactive(page: Page, metrics: CDPSession, url: str) -> dict[str, Any]:
    """Load `url`: milliseconds from the navigation's start to the launcher being interactive,
    the main thread's CPU milliseconds by then (ThreadTime counts from the navigation), and the
    files the page had fetched."""
    page.goto(url, wait_until="commit")
    elapsed = page.wait_for_function(INTERACTIVE, polling="raf", timeout=TIMEOUT_MS).json_value()
    values = metrics.send("Performance.getMetrics")["metrics"]
    cpu = next(metric["value"] for metric in values if metric["name"] == "ThreadTime")
    return {
        "ms": float(elapsed),
        "cpu_ms": cpu * 1000,
        "resources": page.evaluate(RESOURCES, elapsed),
    }


def sample(browser: Browser, url: str) -> dict[str, Any]:
    """A cold-cache load in a fresh context, then a warm one in the same context."""
    context, page, metrics = open_page(browser)
    try:
        cold = until_interactive(page, metrics, url)
        warm = until_interactive(page, metrics, url)
    finally:
        context.close()
    return {
        "cold": cold["ms"],
        "warm": warm["ms"],
        "cold CPU": cold["cpu_ms"],
        "warm CPU": warm["cpu_ms"],
        "resources": cold["resources"],
    }


def ours(resources: list[dict[str, Any]]) -> list[str]:
    """The names of our labextension's files among `resources`."""
    marker = f"/lab/extensions/{EXTENSION}/static/"
    return sorted(
        {item["url"].split(marker)[1].split("?")[0] for item in resources if marker in item["url"]}
    )


class FirstUse:
    """A person's first use of the panel, step by step, on a page where the launcher is
    interactive: `model` has versions 1 and 2 and metric histories, `previewed` a version 1
    whose run logged `metrics.json`."""

    def __init__(self, page: Page, model: str, previewed: str, scratch: Path) -> None:
        self.page = page
        self.model = model
        self.previewed = previewed
        self.sidebar = Sidebar(page, scratch)

    def steps(self) -> dict[str, Callable[[], None]]:
        return {
            "launcher interactive": lambda: None,
            "panel opened (models listed)": self.open_panel,
            "a version's page (its charts, artifacts listed)": self.open_version,
            "the deploy dialog": lambda: self.dialog("Deploy…"),
            "the set-alias dialog": lambda: self.dialog("Set alias…"),
            "two versions compared (a tab)": self.compare,
            "an artifact previewed": self.preview,
        }

    def open_panel(self) -> None:
        self.page.locator(SIDEBAR_TAB).click()
        expect(self.sidebar.model_row(self.model)).to_be_visible()

    def open_version(self) -> None:
        self.sidebar.model_row(self.model).click()
        self.sidebar.open_version("1")
        expect(self.sidebar.panel.locator("figure[data-metric] polyline").first).to_be_visible()

    def dialog(self, button: str) -> None:
        self.sidebar.panel.get_by_role("button", name=button).click()
        dialog = self.page.get_by_role("dialog")
        expect(dialog).to_be_visible()
        dialog.get_by_role("button", name="Cancel").click()
        expect(dialog).to_be_hidden()

    def compare(self) -> None:
        panel = self.sidebar.panel
        panel.get_by_role("button", name=f"Back to {self.model}").click()
        for version in ("1", "2"):
            panel.get_by_role("checkbox", name=f"Compare version {version}").check()
        panel.get_by_role("button", name="Compare", exact=True).click()
        chart = self.page.locator(".jp-MlflowGroups-compareTab figure polyline")
        expect(chart.first).to_be_visible()

    def preview(self) -> None:
        self.sidebar.panel.get_by_role("button", name="Back to Models").click()
        self.sidebar.search(self.previewed)
        self.sidebar.model_row(self.previewed).click()
        self.sidebar.open_version("1")
        artifacts = self.sidebar.panel.get_by_role("region", name="Artifacts")
        artifacts.get_by_role("button", name="metrics.json").click()
        expect(artifacts.locator("pre.jp-MlflowGroups-artifactText")).to_contain_text("accuracy")


def tour(browser: Browser, url: str, first_use: Callable[[Page], FirstUse]) -> dict[str, list[str]]:
    """Our files the page first fetched at each step of FirstUse."""
    context, page, metrics = open_page(browser)
    try:
        page.set_default_timeout(60_000)
        until_interactive(page, metrics, url)
        seen: dict[str, list[str]] = {}
        for step, act in first_use(page).steps().items():
            act()
            before = {name for names in seen.values() for name in names}
            fetched = ours(page.evaluate(RESOURCES, float("inf")))
            seen[step] = [name for name in fetched if name not in before]
    finally:
        context.close()
    return seen


def bundle(folder: Path) -> dict[str, dict[str, int]]:
    """Each JavaScript file of the labextension: its size, and gzipped."""
    return {
        path.name: {"bytes": path.stat().st_size, "gzip": len(gzip.compress(path.read_bytes()))}
        for path in sorted((folder / "static").glob("*.js"))
    }


def spread(values: list[float]) -> str:
    if len(values) < 2:
        return "-"
    low, _, high = statistics.quantiles(values, n=4)
    return f"{low:.0f}-{high:.0f} ms"


def report(results: dict[str, Any], rounds: int) -> None:
    samples = results["samples_ms"]
    print(f"| launcher interactive ({rounds} rounds; median, IQR) | " + " | ".join(MEASURES) + " |")
    print("| --- " * (len(MEASURES) + 1) + "|")
    for side in SIDES:
        cells = [
            f"{statistics.median(samples[side][measure]):.0f} ms ({spread(samples[side][measure])})"
            for measure in MEASURES
        ]
        print(f"| {side} | " + " | ".join(cells) + " |")
    for against in SIDES[1:]:
        ratios = results["ratios"][against]
        for kind, label in (
            ("of_medians", "ratio of medians"),
            ("paired", "median of paired ratios"),
        ):
            cells = [f"{ratios[measure][kind]:.3f}" for measure in MEASURES]
            print(f"| enabled / {against}: {label} | " + " | ".join(cells) + " |")
    files, steps = results["bundle"], results["tour"]
    print("\n| our file | bytes | gzipped | first fetched |")
    print("| --- | --- | --- | --- |")
    for name, size in files.items():
        step = next((step for step, names in steps.items() if name in names), "-")
        print(f"| {name} | {size['bytes']:,} | {size['gzip']:,} | {step} |")
    total = sum(size["bytes"] for size in files.values())
    gzipped = sum(size["gzip"] for size in files.values())
    startup = [name for name in steps["launcher interactive"] if name in files]
    at_start = sum(files[name]["bytes"] for name in startup)
    print(f"| all | {total:,} | {gzipped:,} | {at_start:,} bytes at startup |")
    page = results["page_bytes"]
    print(
        f"\nThe whole page had fetched {page['decoded']:,} bytes ({page['encoded']:,} as sent) by "
        f"the time the launcher was interactive, enabled; ours {page['ours_decoded']:,}. "
        f"Disabled, the page fetched these of our files: {', '.join(results['disabled_fetches'])}."
    )


def paired(ours: list[float], theirs: list[float]) -> dict[str, float]:
    return {
        "of_medians": statistics.median(ours) / statistics.median(theirs),
        "paired": statistics.median(o / t for o, t in zip(ours, theirs, strict=True)),
    }


def measure(browser: Browser, sides: Sides, url: str, rounds: int) -> dict[str, Any]:
    samples: dict[str, dict[str, list[float]]] = {side: {m: [] for m in MEASURES} for side in SIDES}
    fetched: dict[str, list[dict[str, Any]]] = {}
    for side in SIDES:  # untimed: the server's first answers, Chromium's first start
        sides.set(side)
        fetched[side] = sample(browser, url)["resources"]
    for index in range(rounds):
        turn = index % len(SIDES)
        for side in SIDES[turn:] + SIDES[:turn]:
            sides.set(side)
            result = sample(browser, url)
            for measure in MEASURES:
                samples[side][measure].append(result[measure])
        print(f"round {index + 1}/{rounds} done", file=sys.stderr)
    sides.set("enabled")
    enabled = fetched["enabled"]
    marker = f"/lab/extensions/{EXTENSION}/"
    return {
        "samples_ms": samples,
        "ratios": {
            against: {
                measure: paired(samples["enabled"][measure], samples[against][measure])
                for measure in MEASURES
            }
            for against in SIDES[1:]
        },
        "page_bytes": {
            "decoded": sum(item["decoded"] for item in enabled),
            "encoded": sum(item["encoded"] for item in enabled),
            "ours_decoded": sum(item["decoded"] for item in enabled if marker in item["url"]),
        },
        "disabled_fetches": ours(fetched["disabled"]) or ["none"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    installed = installed_extension()
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        mlflow = start_mlflow(root / "mlflow")
        lab: JupyterServerProcess | None = None
        try:
            wait_until_healthy(mlflow)
            seeded = seed_registry(
                mlflow.url,
                models=5,
                versions_per_model=3,
                multi_version_models=1,
                history_steps=200,
            )
            previewed = seed_previews(mlflow.url)
            bindings = root / "bindings.json"
            bindings.write_text(json.dumps({"groups": {"team": {"tracking_uri": mlflow.url}}}))
            extensions = labextensions_folder(root / "labextensions")
            home = root / "home"
            lab = JupyterServerProcess(
                home,
                env={"JUPYTER_MLFLOW_GROUPS_FILE": str(bindings)},
                args=[f"--LabApp.labextensions_path={extensions}"],
                launcher=LAB,
            )
            configs = page_configs(lab.env, home / "config")
            sides = Sides(
                home / "config" / "labconfig" / "page_config.json",
                configs,
                extensions / EXTENSION,
            )
            lab.start()
            url = f"{lab.url}/lab?reset&token={lab.token}"
            with sync_playwright() as driver:
                browser = driver.chromium.launch(executable_path=chromium(), args=CHROMIUM_FLAGS)
                try:
                    results = measure(browser, sides, url, args.rounds)
                    results["tour"] = tour(
                        browser,
                        url,
                        lambda page: FirstUse(page, seeded.model_names[0], previewed.model, root),
                    )
                finally:
                    browser.close()
        finally:
            if lab is not None:
                lab.stop()
            mlflow.stop()
    results["bundle"] = bundle(installed)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    report(results, args.rounds)


if __name__ == "__main__":
    main()
