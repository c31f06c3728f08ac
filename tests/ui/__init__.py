"""The JupyterLab sidebar in headless Chromium."""
