"""The decisions API (JSON), for the caisse's systems and the replay, as a technician.

Every call carries ``Authorization: Bearer <token>``, a token of one technician (issued by
``fseflow pointage technician token``, or by ``POST /api/v1/tokens`` with their password). The
technician's organism scopes everything: another organism's FSE answer 404 exactly as an FSE that
does not exist (its existence is not confirmed), and a decision is recorded as the token's
technician — a ``technician`` (or ``organism``) in the body that is not theirs is refused (403).
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import asyncpg
from aiohttp import web

from fseflow.vocabulary.calendar import parse_day
from pointage.adapters import access_store as store
from pointage.adapters import postgres as pg
from pointage.domain.access import TOKEN_PREFIX, Identity, new_secret, secret_digest
from pointage.entrypoints.web_input import BadParameter, check_json, check_text
from pointage.handlers.decisions import DecisionRefused, Decisions
from pointage.handlers.logins import Logins, Throttled

# What a refused decision answers over HTTP.
REFUSAL_STATUS = {"invalid": 400, "not_found": 404, "conflict": 409}


class DecisionsApi:
    def __init__(self, pool: asyncpg.Pool, decisions: Decisions, logins: Logins) -> None:
        self.pool = pool
        self.decisions = decisions
        self.logins = logins

    def add_routes(self, routes: web.UrlDispatcher) -> None:
        routes.add_post("/api/v1/tokens", self._token)
        routes.add_delete("/api/v1/tokens/current", self._revoke)
        routes.add_post("/api/v1/decisions", self._decide)
        routes.add_post("/api/v1/accords/validate", self._validate)
        routes.add_get("/api/v1/fse/{world}/{fse_id}", self._fse)

    async def identity(self, request: web.Request) -> Identity:
        token = _bearer(request)
        if token:
            async with self.pool.acquire() as conn:
                identity = await store.token_identity(conn, secret_digest(token))
            if identity is not None:
                return identity
        raise web.HTTPUnauthorized(
            text=_error_json(
                "Authorization",
                "a technician's token is required: Bearer <token> (revoked tokens are refused)",
            ),
            content_type="application/json",
            headers={"WWW-Authenticate": 'Bearer realm="pointage"'},
        )

    async def _token(self, request: web.Request) -> web.Response:
        """A token for a technician who gives their password (throttled like the console)."""
        body = await json_body(request)
        technician = _text(body, "technician")
        label = body.get("label", "api login")
        if not isinstance(label, str):
            raise BadParameter("label", "must be a string")
        outcome = await self.logins.attempt(technician, _text(body, "password"), request.remote or "unknown")
        if isinstance(outcome, Throttled):
            lock = outcome.lock
            return _error(
                429,
                "technician",
                f"another login of {technician!r} is being checked: retry in {lock.seconds} s"
                if lock.busy
                else f"too many failed logins for {technician!r} or from this address: "
                f"retry after {lock.until:%H:%M:%S} UTC (in {lock.seconds} s)",
                headers={"Retry-After": str(lock.seconds)},
            )
        if outcome is None:
            return _error(401, "password", "unknown technician or wrong password")
        token, digest = new_secret(TOKEN_PREFIX)
        async with self.pool.acquire() as conn:
            await store.issue_token(conn, outcome.technician, digest, label)
        return web.json_response(
            {"token": token, "technician": outcome.technician, "organism": outcome.organism}, status=201
        )

    async def _revoke(self, request: web.Request) -> web.Response:
        await self.identity(request)
        async with self.pool.acquire() as conn:
            await store.revoke_token(conn, secret_digest(_bearer(request)))
        return web.json_response({"revoked": True})

    async def _decide(self, request: web.Request) -> web.Response:
        who = await self.identity(request)
        body = await json_body(request)
        _same_or_absent(
            body, "technician", who.technician, "a decision is recorded as the token's technician"
        )
        try:
            result = await self.decisions.decide(
                world=_text(body, "world"),
                fse_id=_text(body, "fse"),
                outcome=_text(body, "outcome"),
                technician=who.technician,
                organism=who.organism,
                on=_day(body, "on"),
            )
        except DecisionRefused as exc:
            return _error(REFUSAL_STATUS[exc.kind], exc.field, exc.message)
        return web.json_response(result)

    async def _validate(self, request: web.Request) -> web.Response:
        who = await self.identity(request)
        body = await json_body(request)
        _same_or_absent(
            body, "technician", who.technician, "a validation is recorded as the token's technician"
        )
        _same_or_absent(body, "organism", who.organism, "a technician validates their own organism's accords")
        try:
            result = await self.decisions.validate_all(
                world=_text(body, "world"),
                organism=who.organism,
                technician=who.technician,
                on=_day(body, "on"),
            )
        except DecisionRefused as exc:
            return _error(REFUSAL_STATUS[exc.kind], exc.field, exc.message)
        return web.json_response(result)

    async def _fse(self, request: web.Request) -> web.Response:
        who = await self.identity(request)
        fse_id = request.match_info["fse_id"]
        async with self.pool.acquire() as conn:
            row = await pg.fse(conn, request.match_info["world"], fse_id)
        # The patient's NIR and care are the FSE's organism's business only.
        if row is None or row["organism"] != who.organism:
            return _error(404, "fse", f"no FSE {fse_id!r} in this pôle")
        return web.json_response(
            {
                key: (value.isoformat() if isinstance(value, date) else value)
                for key, value in row.items()
                if key != "classified"
            }
        )


async def json_body(request: web.Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.read())
    except ValueError:  # UnicodeDecodeError included
        raise BadParameter("body", "not JSON (UTF-8)") from None
    if not isinstance(body, dict):
        raise BadParameter("body", "must be a JSON object")
    check_json(body)
    return body


def _bearer(request: web.Request) -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _same_or_absent(body: dict[str, Any], field: str, expected: str, why: str) -> None:
    given = body.get(field)
    if given is not None and given != expected:
        raise web.HTTPForbidden(
            text=_error_json(
                field,
                f"{given!r} is not the authenticated technician's ({expected!r}): {why}; "
                f"leave {field!r} out or give {expected!r}",
            ),
            content_type="application/json",
        )


def _error(status: int, field: str, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"error": {"field": field, "message": message}}, status=status, headers=headers)


def _error_json(field: str, message: str) -> str:
    return json.dumps({"error": {"field": field, "message": message}}, ensure_ascii=False)


def _text(body: dict[str, Any], field: str) -> str:
    value = body.get(field)
    if not isinstance(value, str) or not value:
        raise BadParameter(field, "required, a non-empty string")
    return check_text(field, value)


def _day(body: dict[str, Any], field: str) -> date | None:
    value = body.get(field)
    if value is None:
        return None
    try:
        return parse_day(value)
    except (TypeError, ValueError):
        raise BadParameter(field, f"{value!r} is not a date (YYYY-MM-DD)") from None
