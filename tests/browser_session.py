"""A browser's cookie session with a Jupyter server, as its login form gives it."""

from __future__ import annotations

from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlencode

from tornado.httpclient import HTTPClientError


async def browser_session(client: Any, serverapp: Any) -> dict[str, str]:
    """Log in with the server's token through its login form: the browser's cookie session."""
    form = await client.fetch(f"{serverapp.base_url}login")
    xsrf = SimpleCookie(form.headers["Set-Cookie"])["_xsrf"].value
    try:
        await client.fetch(
            f"{serverapp.base_url}login",
            method="POST",
            body=urlencode({"password": serverapp.identity_provider.token, "_xsrf": xsrf}),
            headers={"Cookie": f"_xsrf={xsrf}"},
            follow_redirects=False,
        )
    except HTTPClientError as redirect:  # 302 to the next page on success
        assert redirect.code == 302, redirect
        cookies = SimpleCookie()
        for header in redirect.response.headers.get_list("Set-Cookie"):
            cookies.load(header)
    session = "; ".join(f"{key}={morsel.value}" for key, morsel in cookies.items())
    return {"Cookie": f"{session}; _xsrf={xsrf}", "xsrf": xsrf}
