"""Technicians of the running pôle for tests: created, given a token, or logged in to the console,
as `fseflow pointage technician add/token` and a browser do."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import asyncpg

from pointage.adapters import access_store
from pointage.domain.access import TOKEN_PREFIX, new_secret
from pointage.domain.passwords import hash_password
from tests.conftest import RunningStack

PASSWORD = "access-pass-1"  # every test technician's password


async def add_technician(running: RunningStack, technician: str, organism: str) -> str:
    """Create the technician (password PASSWORD) and return a new API token of theirs."""
    token, digest = new_secret(TOKEN_PREFIX)
    conn = await asyncpg.connect(running.state.database_url)
    try:
        await access_store.add_technician(conn, technician, organism, hash_password(PASSWORD))
        await access_store.issue_token(conn, technician, digest, "tests")
    finally:
        await conn.close()
    return token


async def api(
    running: RunningStack, method: str, path: str, token: str | None, body: object = None
) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    async with (
        aiohttp.ClientSession(headers=headers) as http,
        http.request(method, running.state.pointage_url + path, json=body) as response,
    ):
        return response.status, await response.json(content_type=None)


@asynccontextmanager
async def console(running: RunningStack) -> AsyncIterator[aiohttp.ClientSession]:
    """A browser-like client of the console: cookies kept, redirects not followed."""
    async with aiohttp.ClientSession(
        base_url=running.state.pointage_url, cookie_jar=aiohttp.CookieJar(unsafe=True)
    ) as http:
        yield http


async def log_in(
    http: aiohttp.ClientSession, technician: str, password: str = PASSWORD
) -> aiohttp.ClientResponse:
    async with http.post(
        "/console/login", data={"technician": technician, "password": password}, allow_redirects=False
    ) as response:
        await response.read()
        return response


async def csrf_of(http: aiohttp.ClientSession, world: str) -> str:
    """The CSRF token of the console's forms, read from the page as a browser has it."""
    async with http.get("/console", params={"world": world}, allow_redirects=False) as page:
        assert page.status == 200, page.status
        found = re.search(r'name="csrf" value="([^"]+)"', await page.text())
    assert found is not None
    return found.group(1)
