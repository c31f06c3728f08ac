"""The MLflow panel as a user drives it: by what is on screen (roles, labels, text)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

SIDEBAR_TAB = 'li[data-id="jupyter-mlflow-groups-sidebar"]'

#: JupyterLab's own controls inside the panel (buttons, selects, fields): their colours are
#: JupyterLab's, not the panel's.
LAB_CONTROLS = ".jp-Button, .jp-HTMLSelect, .jp-InputGroup, .jp-ToolbarButtonComponent, svg"

#: Each visible element of `root` with text of its own: the text, its colour, and the
#: background colours from it up to the page's root (the first opaque one is what shows).
_TEXTS = """(root, skip) => {
  const shown = [];
  for (const element of [root, ...root.querySelectorAll('*')]) {
    const ownText = [...element.childNodes]
      .filter(node => node.nodeType === Node.TEXT_NODE)
      .map(node => node.textContent.trim())
      .join(' ')
      .trim();
    const style = getComputedStyle(element);
    if (!ownText || element.closest(skip) || element.getClientRects().length === 0 ||
        style.visibility !== 'visible') {
      continue;
    }
    const backgrounds = [];
    for (let node = element; node; node = node.parentElement) {
      backgrounds.push(getComputedStyle(node).backgroundColor);
    }
    shown.push({
      text: ownText.slice(0, 60),
      classes: element.className && String(element.className),
      colour: style.color,
      backgrounds
    });
  }
  return shown;
}"""

#: Each chart's line: its stroke and the backgrounds behind it (the sidebar's small charts
#: and the compare tab's overlaid histories alike: a polyline in a figure with data-metric).
_LINES = """root => [...root.querySelectorAll('figure polyline')].map(line => {
  const backgrounds = [];
  for (let node = line.closest('svg'); node; node = node.parentElement) {
    backgrounds.push(getComputedStyle(node).backgroundColor);
  }
  return { text: line.closest('figure').dataset.metric, classes: 'polyline',
           colour: getComputedStyle(line).stroke, backgrounds };
})"""

RGBA = tuple[float, float, float, float]


def parse_colour(css: str) -> RGBA:
    """`rgb(r, g, b)` or `rgba(r, g, b, a)`, as the browser computes colours."""
    parts = [float(part) for part in re.findall(r"[\d.]+", css)]
    assert css.startswith("rgb") and len(parts) in (3, 4), css
    return (parts[0], parts[1], parts[2], parts[3] if len(parts) == 4 else 1.0)


def over(top: RGBA, bottom: RGBA) -> RGBA:
    """`top` painted over the opaque `bottom`."""
    alpha = top[3]
    red, green, blue = (top[i] * alpha + bottom[i] * (1 - alpha) for i in range(3))
    return (red, green, blue, 1.0)


def effective_background(backgrounds: list[str]) -> RGBA:
    """What shows behind an element: its background and its ancestors' (innermost first)
    painted over each other, down to the first opaque one (else the page's white)."""
    layers: list[RGBA] = []
    for css in backgrounds:
        colour = parse_colour(css)
        if colour[3] > 0:
            layers.append(colour)
        if colour[3] >= 1:
            break
    result: RGBA = (255.0, 255.0, 255.0, 1.0)
    for layer in reversed(layers):
        result = over(layer, result)
    return result


def relative_luminance(colour: RGBA) -> float:
    """WCAG 2's relative luminance of an opaque sRGB colour."""

    def linear(channel: float) -> float:
        value = channel / 255
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

    red, green, blue = (linear(channel) for channel in colour[:3])
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast_ratio(first: RGBA, second: RGBA) -> float:
    """WCAG 2's contrast ratio of two opaque colours, from 1 to 21."""
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)))[::-1]
    return (lighter + 0.05) / (darker + 0.05)


@dataclass
class Contrast:
    text: str
    classes: str
    colour: RGBA
    background: RGBA
    ratio: float


def _contrasts(shown: list[dict]) -> list[Contrast]:
    result = []
    for item in shown:
        background = effective_background(item["backgrounds"])
        colour = over(parse_colour(item["colour"]), background)
        result.append(
            Contrast(
                item["text"],
                item["classes"],
                colour,
                background,
                contrast_ratio(colour, background),
            )
        )
    return result


def text_contrasts(root: Locator) -> list[Contrast]:
    """The contrast of every text shown within `root`, but JupyterLab's own controls, from the
    computed styles."""
    return _contrasts(root.evaluate(_TEXTS, LAB_CONTROLS))


def chart_contrasts(root: Locator) -> list[Contrast]:
    """The contrast of each chart line within `root` with the chart's background."""
    return _contrasts(root.evaluate(_LINES))


def unreadable(contrasts: list[Contrast], least: float, where: str) -> list[str]:
    """Each contrast below `least`, said so that a failing test shows what and where."""
    return [
        f"{where}: {item.text!r} ({item.classes}) {item.ratio:.2f}:1, "
        f"colour {item.colour[:3]} on {item.background[:3]}"
        for item in contrasts
        if item.ratio < least
    ]


class Sidebar:
    def __init__(self, page: Page, screenshots: Path) -> None:
        self.page = page
        self.screenshots = screenshots

    @property
    def panel(self) -> Locator:
        return self.page.locator(".jp-MlflowGroups")

    def open(self) -> Sidebar:
        self.page.locator(SIDEBAR_TAB).click()
        expect(self.panel).to_be_visible()
        return self

    def expect_health(self, health: str) -> None:
        expect(self.panel.locator(".jp-MlflowGroups-health")).to_have_attribute(
            "data-health", health, timeout=30_000
        )

    def switch_group(self, group: str) -> None:
        self.panel.get_by_label("Group", exact=True).select_option(group)

    def search(self, text: str) -> None:
        box = self.panel.get_by_role("searchbox")
        box.fill(text)
        box.press("Enter")

    @property
    def model_rows(self) -> Locator:
        return self.panel.locator(".jp-MlflowGroups-modelRow")

    def model_row(self, name: str) -> Locator:
        return self.model_rows.filter(
            has=self.page.locator(".jp-MlflowGroups-modelName", has_text=name)
        )

    @property
    def versions_table(self) -> Locator:
        return self.panel.locator(".jp-MlflowGroups-versions")

    def version_row(self, version: str) -> Locator:
        return self.versions_table.locator(f'tbody tr[data-version="{version}"]')

    def open_version(self, version: str) -> None:
        self.version_row(version).get_by_role("button", name=f"v{version}").click()
        expect(self.panel.get_by_role("heading", level=2)).to_contain_text(f"v{version}")

    def invocations_url(self, within: Locator) -> Locator:
        """The full invocations URL that a deployment's row or a finished job shows."""
        return within.locator(".jp-MlflowGroups-invocationsUrl")

    @property
    def problem(self) -> Locator:
        return self.panel.get_by_role("alert")

    def text_contrasts(self, within: Locator | None = None) -> list[Contrast]:
        """The contrast of every text shown in the panel (or `within` a part of it), but
        JupyterLab's own controls, from the computed styles."""
        return text_contrasts(within or self.panel)

    def chart_contrasts(self) -> list[Contrast]:
        """The contrast of each metric chart's line with the chart's background."""
        return chart_contrasts(self.panel)

    def snap(self, name: str, *, whole_window: bool = False) -> Path:
        """A PNG of the panel (or of the whole window) named after the state it shows."""
        path = self.screenshots / f"sidebar-{name}.png"
        self.page.mouse.move(0, 0)  # no hover effects in the picture
        if whole_window:
            self.page.screenshot(path=str(path))
        else:
            self.panel.screenshot(path=str(path))
        return path
