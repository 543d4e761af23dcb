"""The technicians' console (server-rendered, no front-end build), and the app that also serves
the decisions API (adapters/api.py).

A technician logs in (id + password, throttled: adapters/logins.py); the session is a row in
PostgreSQL named by a random cookie, so logging out ends it on every replica and a copied cookie
is worthless afterwards. Every page and action is scoped to the technician's organism — another
organism's FSE do not exist for them. Documents are read from scor-store with the technician's
own certificate. Every parameter (path, query, form, JSON) is checked first (adapters/web_input.py).
"""

from __future__ import annotations

import hmac
import logging
import re
import secrets
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import asyncpg
import jinja2
from aiohttp import web

from fseflow.business_clock import ClockFollower
from fseflow.contracts.cti.v1.classification_pb2 import FseClassified
from pointage.adapters import access_store as store
from pointage.adapters import postgres as pg
from pointage.adapters.scor_reader import DocumentUnavailable, ScorReader
from pointage.domain.access import LoginLimits, new_secret, secret_digest
from pointage.entrypoints.api import DecisionsApi
from pointage.entrypoints.web_input import (
    MAX_FORM_BYTES,
    BadParameter,
    check_path,
    check_text,
    decode_pairs,
)
from pointage.handlers.decisions import DecisionRefused, Decisions
from pointage.handlers.logins import Logins, Throttled

log = logging.getLogger(__name__)

COOKIE = "pointage_session"
_SESSION_ID = re.compile(r"[A-Za-z0-9_-]{43}")  # secrets.token_urlsafe(32)
_TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).resolve().parent.parent / "templates"),
    autoescape=True,
)
_GROUPS = (("accord", "Accords"), ("rejet", "Rejets"), ("litigieuse", "Litigieuses"))
# Path parameters are named in errors as the API's fields are.
_PATH_FIELDS = {"fse_id": "fse", "document_id": "document"}
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _render(name: str, status: int = 200, **context: Any) -> web.Response:
    body = _TEMPLATES.get_template(name).render(**context)
    return web.Response(text=body, status=status, content_type="text/html", charset="utf-8")


class PointageWeb:
    def __init__(
        self,
        pool: asyncpg.Pool,
        decisions: Decisions,
        clock: ClockFollower,
        scor: ScorReader,
        *,
        limits: LoginLimits,
        session_lifetime: timedelta,
    ) -> None:
        self.pool = pool
        self.decisions = decisions
        self.clock = clock
        self.scor = scor
        self.logins = Logins(pool, limits)
        self.session_lifetime = session_lifetime
        self.app = web.Application(middlewares=[_checked_input])
        routes = self.app.router
        routes.add_get("/", self._home)
        routes.add_get("/console/login", self._login_page)
        routes.add_post("/console/login", self._login)
        routes.add_post("/console/logout", self._logout)
        routes.add_get("/console", self._console)
        routes.add_post("/console/validate", self._console_validate)
        routes.add_post("/console/decide", self._console_decide)
        routes.add_get("/console/documents/{world}/{document_id}", self._console_document)
        DecisionsApi(pool, decisions, self.logins).add_routes(routes)
        self._runner: web.AppRunner | None = None

    async def start(self, host: str, port: int) -> None:
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        log.info("console and decisions API on %s:%d", host, port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # -- sessions -----------------------------------------------------------------------------
    async def _session(self, request: web.Request) -> store.Session | None:
        session_id = request.cookies.get(COOKIE, "")
        if not _SESSION_ID.fullmatch(session_id):
            return None
        async with self.pool.acquire() as conn:
            return await store.session(conn, secret_digest(session_id))

    async def _require_session(self, request: web.Request) -> store.Session:
        session = await self._session(request)
        if session is None:
            raise web.HTTPFound("/console/login")
        return session

    async def _checked_form(self, request: web.Request) -> tuple[store.Session, dict[str, str]]:
        session = await self._require_session(request)
        form = await _form(request)
        if not hmac.compare_digest(form.get("csrf", ""), session.csrf):
            raise web.HTTPForbidden(text="csrf: the form is stale; reload the page")
        return session, form

    # -- console ------------------------------------------------------------------------------
    async def _home(self, _request: web.Request) -> web.Response:
        raise web.HTTPFound("/console")

    async def _login_page(self, _request: web.Request) -> web.Response:
        return _render("login.html", error=None)

    async def _login(self, request: web.Request) -> web.Response:
        form = await _form(request)
        technician = form.get("technician", "").strip()
        outcome = await self.logins.attempt(technician, form.get("password", ""), request.remote or "unknown")
        if isinstance(outcome, Throttled):
            lock = outcome.lock
            page = _render(
                "login.html",
                status=429,
                error=(
                    f"Une autre connexion de {technician} est en cours : réessayez dans {lock.seconds} s."
                    if lock.busy
                    else f"Trop de tentatives de connexion pour {technician} ou depuis votre poste : "
                    f"réessayez après {lock.until:%H:%M:%S} UTC (dans {lock.seconds} s)."
                ),
            )
            page.headers["Retry-After"] = str(lock.seconds)
            return page
        if outcome is None:
            return _render("login.html", status=401, error="Identifiant ou mot de passe incorrect.")
        session_id, digest = new_secret()
        async with self.pool.acquire() as conn:
            await store.open_session(
                conn, digest, outcome.technician, secrets.token_urlsafe(16), self.session_lifetime
            )
        response = web.HTTPFound("/console")
        response.set_cookie(
            COOKIE,
            session_id,
            httponly=True,
            samesite="Strict",
            max_age=int(self.session_lifetime.total_seconds()),
            secure=request.secure,
        )
        raise response

    async def _logout(self, request: web.Request) -> web.Response:
        session = await self._session(request)
        if session is not None:
            await self._checked_form(request)
            async with self.pool.acquire() as conn:
                await store.close_session(conn, secret_digest(request.cookies[COOKIE]))
        response = web.HTTPFound("/console/login")
        response.del_cookie(COOKIE)
        raise response

    async def _console(self, request: web.Request) -> web.Response:
        session = await self._require_session(request)
        organism = session.organism
        async with self.pool.acquire() as conn:
            worlds = await pg.worlds_of(conn, organism)
            world = request.query.get("world") or (worlds[0] if worlds else "")
            if world and world not in worlds:
                worlds.insert(0, world)
            open_day = self.clock.open_day(world) if world else None
            last_delivery = await pg.last_delivery(conn, world, organism)
            groups = await pg.group_counts(conn, world, organism, last_delivery) if last_delivery else {}
            states = await pg.state_counts(conn, world, organism)
            queue = await pg.review_queue(conn, world, organism)
            recent = await conn.fetch(
                """
                SELECT fse_id, state, decided_on, pay_on FROM pointage.fse
                WHERE world = $1 AND organism = $2 AND decided_by = $3
                ORDER BY decided_on DESC, fse_id LIMIT 50
                """,
                world,
                organism,
                session.technician,
            )
        return _render(
            "console.html",
            session=session,
            world=world,
            worlds=worlds,
            open_day=open_day,
            last_delivery=last_delivery,
            groups=[(label, groups.get(key, 0)) for key, label in _GROUPS],
            states=states,
            to_validate=states.get(pg.TO_VALIDATE, 0),
            queue=[_queue_item(row) for row in queue],
            recent=recent,
            message=request.query.get("message"),
        )

    async def _console_validate(self, request: web.Request) -> web.Response:
        session, form = await self._checked_form(request)
        world = form.get("world", "")
        try:
            result = await self.decisions.validate_all(
                world=world, organism=session.organism, technician=session.technician
            )
            message = f"{result['validated']} accord(s) validé(s) le {result['validated_on']}."
        except DecisionRefused as exc:
            message = f"Refusé — {exc.message}"
        raise web.HTTPFound(_console_url(world, message))

    async def _console_decide(self, request: web.Request) -> web.Response:
        session, form = await self._checked_form(request)
        world = form.get("world", "")
        fse_id = form.get("fse", "")
        try:
            result = await self.decisions.decide(
                world=world,
                fse_id=fse_id,
                outcome=form.get("outcome", ""),
                technician=session.technician,
                organism=session.organism,
            )
            message = f"{fse_id} : {result['state']} le {result['decided_on']}" + (
                f", paiement le {result['pay_on']}." if result["pay_on"] else "."
            )
        except DecisionRefused as exc:
            message = f"Refusé — {exc.message}"
        raise web.HTTPFound(_console_url(world, message))

    async def _console_document(self, request: web.Request) -> web.StreamResponse:
        session = await self._require_session(request)
        world = request.match_info["world"]
        document_id = request.match_info["document_id"]
        async with self.pool.acquire() as conn:
            owner = await pg.document_owner(conn, world, document_id)
        if owner is None or owner["organism"] != session.organism:
            return _render("error.html", status=404, message="Pas de pièce de ce nom dans votre pôle.")
        try:
            content_type, content = await self.scor.get(session.technician, world, document_id)
        except DocumentUnavailable as exc:
            return _render(
                "error.html",
                status=403,
                message=f"Le serveur Scor ne délivre pas cette pièce à {session.technician} ({exc}).",
            )
        return web.Response(
            body=content,
            content_type=content_type,
            headers={"Content-Disposition": f'inline; filename="{document_id}"'},
        )


@web.middleware
async def _checked_input(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Path, path parameters and query string, before any handler reads them."""
    try:
        for name, value in request.match_info.items():
            check_text(_PATH_FIELDS.get(name, name), value)
        check_path(request.raw_path, {_PATH_FIELDS.get(k, k): v for k, v in request.match_info.items()})
        decode_pairs(request.rel_url.raw_query_string.encode("utf-8", "surrogateescape"), "query")
        return await handler(request)
    except BadParameter as exc:
        if request.path.startswith("/api/"):
            return web.json_response({"error": {"field": exc.field, "message": exc.reason}}, status=400)
        return _render("error.html", status=400, message=f"{exc.field} : {exc.reason}")


async def _form(request: web.Request) -> dict[str, str]:
    """An urlencoded form (what the console's pages send), decoded strictly."""
    if (request.content_length or 0) > MAX_FORM_BYTES:
        raise BadParameter("form", f"larger than {MAX_FORM_BYTES} bytes")
    body = await request.read()
    if body and request.content_type != "application/x-www-form-urlencoded":
        raise BadParameter("form", f"{request.content_type}: send application/x-www-form-urlencoded")
    return decode_pairs(body, "form")


def _console_url(world: str, message: str) -> str:
    return "/console?" + urlencode({"world": world, "message": message})


def _queue_item(row: asyncpg.Record) -> dict[str, Any]:
    fse = FseClassified.FromString(row["classified"]).fse
    return {
        "fse_id": row["fse_id"],
        "ps_id": row["ps_id"],
        "nir": row["nir"],
        "received_on": row["received_on"],
        "delivered_on": row["delivered_on"],
        "amount": f"{row['amount_cents'] / 100:.2f}",
        "reasons": row["reasons"].split(),
        "acts": [(a.code, a.coefficient, a.performed_on, " ".join(a.complements)) for a in fse.acts],
        "documents": list(row["documents"]),
    }
