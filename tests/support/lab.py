"""JupyterLab as the tests open it: its page config, and the browser that shows it."""

from __future__ import annotations

#: JupyterLab's news and update checks would fetch from the internet and pop up over the panel.
LAB_PAGE_CONFIG = {
    "disabledExtensions": {
        "@jupyterlab/apputils-extension:announcements": True,
    }
}
#: What Chromium needs on these machines (see the machine notes): as root, no sandbox; no
#: background connections, which the closed network refuses.
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
VIEWPORT = {"width": 1280, "height": 800}
