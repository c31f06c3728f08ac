"""Calls to pytest-jupyter's in-process server (its `jp_fetch`, its HTTP client): JSON
answers, and a browser's cookie session as the login form gives it."""

from __future__ import annotations

import json
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlencode

from tornado.httpclient import HTTPClientError


async def fetch_json(
    jp_fetch: Any, *parts: str, method: str = "GET", body: Any = None, params: dict | None = None
) -> tuple[int, Any]:
    """Call the server; return (status, JSON body) for successes and errors alike."""
    kwargs: dict[str, Any] = {"method": method, "params": params}
    if body is not None:
        kwargs["body"] = body if isinstance(body, (str, bytes)) else json.dumps(body)
    elif method in ("PUT", "POST"):
        kwargs["body"] = ""
    try:
        response = await jp_fetch(*parts, **kwargs)
    except HTTPClientError as error:
        assert error.response is not None
        return error.code, json.loads(error.response.body or b"null")
    return response.code, json.loads(response.body or b"null")


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
