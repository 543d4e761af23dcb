"""The technicians' console (server-rendered, no front-end build) and the decisions API.

Console: a technician logs in (id + password); the signed session cookie carries their id and
organism, and every page and action is scoped to that organism — another organism's FSE do not
exist for them. Documents are read from scor-store with the technician's own certificate.

API (JSON, ``Authorization: Bearer $POINTAGE_API_TOKEN``): the same decisions for the caisse's
systems and the replay; the technician is named in the body and recorded.
"""

from __future__ import annotations

import hmac
import json
import logging
import secrets
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import asyncpg
import jinja2
from aiohttp import web
from itsdangerous import BadSignature, URLSafeTimedSerializer

from fseflow.business_clock import ClockFollower
from fseflow.calendar import parse_day
from fseflow.cti.v1.classification_pb2 import FseClassified
from pointage.adapters import postgres as pg
from pointage.adapters.scor_reader import DocumentUnavailable, ScorReader
from pointage.domain.passwords import verify_password
from pointage.handlers import DecisionRefused, Decisions

log = logging.getLogger(__name__)

COOKIE = "pointage_session"
SESSION_SECONDS = 10 * 3600  # a working day
_TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).resolve().parent.parent / "templates"),
    autoescape=True,
)
_GROUPS = (("accord", "Accords"), ("rejet", "Rejets"), ("litigieuse", "Litigieuses"))


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
        api_token: str,
        session_secret: str,
    ) -> None:
        self.pool = pool
        self.decisions = decisions
        self.clock = clock
        self.scor = scor
        self.api_token = api_token
        self.sessions = URLSafeTimedSerializer(session_secret, salt="pointage-console")
        self.app = web.Application()
        routes = self.app.router
        routes.add_get("/", self._home)
        routes.add_get("/console/login", self._login_page)
        routes.add_post("/console/login", self._login)
        routes.add_post("/console/logout", self._logout)
        routes.add_get("/console", self._console)
        routes.add_post("/console/validate", self._console_validate)
        routes.add_post("/console/decide", self._console_decide)
        routes.add_get("/console/documents/{world}/{document_id}", self._console_document)
        routes.add_post("/api/v1/decisions", self._api_decide)
        routes.add_post("/api/v1/accords/validate", self._api_validate)
        routes.add_get("/api/v1/fse/{world}/{fse_id}", self._api_fse)
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
    def _session(self, request: web.Request) -> dict[str, str] | None:
        token = request.cookies.get(COOKIE)
        if not token:
            return None
        try:
            session = self.sessions.loads(token, max_age=SESSION_SECONDS)
        except BadSignature:
            return None
        return session if isinstance(session, dict) else None

    def _require_session(self, request: web.Request) -> dict[str, str]:
        session = self._session(request)
        if session is None:
            raise web.HTTPFound("/console/login")
        return session

    async def _checked_form(self, request: web.Request) -> tuple[dict[str, str], dict[str, str]]:
        session = self._require_session(request)
        form = {k: str(v) for k, v in (await request.post()).items()}
        if not hmac.compare_digest(form.get("csrf", ""), session["csrf"]):
            raise web.HTTPForbidden(text="csrf: the form is stale; reload the page")
        return session, form

    # -- console ------------------------------------------------------------------------------
    async def _home(self, _request: web.Request) -> web.Response:
        raise web.HTTPFound("/console")

    async def _login_page(self, _request: web.Request) -> web.Response:
        return _render("login.html", error=None)

    async def _login(self, request: web.Request) -> web.Response:
        form = await request.post()
        technician_id = str(form.get("technician", "")).strip()
        password = str(form.get("password", ""))
        async with self.pool.acquire() as conn:
            row = await pg.technician(conn, technician_id)
        if row is None or not verify_password(password, row["password_hash"]):
            return _render("login.html", status=401, error="Identifiant ou mot de passe incorrect.")
        session = {
            "technician": technician_id,
            "organism": row["organism"],
            "csrf": secrets.token_urlsafe(16),
        }
        response = web.HTTPFound("/console")
        response.set_cookie(
            COOKIE,
            self.sessions.dumps(session),
            httponly=True,
            samesite="Strict",
            max_age=SESSION_SECONDS,
            secure=request.secure,
        )
        raise response

    async def _logout(self, _request: web.Request) -> web.Response:
        response = web.HTTPFound("/console/login")
        response.del_cookie(COOKIE)
        raise response

    async def _console(self, request: web.Request) -> web.Response:
        session = self._require_session(request)
        organism = session["organism"]
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
                session["technician"],
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
                world=world, organism=session["organism"], technician=session["technician"]
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
                technician=session["technician"],
                organism=session["organism"],
            )
            message = f"{fse_id} : {result['state']} le {result['decided_on']}" + (
                f", paiement le {result['pay_on']}." if result["pay_on"] else "."
            )
        except DecisionRefused as exc:
            message = f"Refusé — {exc.message}"
        raise web.HTTPFound(_console_url(world, message))

    async def _console_document(self, request: web.Request) -> web.StreamResponse:
        session = self._require_session(request)
        world = request.match_info["world"]
        document_id = request.match_info["document_id"]
        async with self.pool.acquire() as conn:
            owner = await pg.document_owner(conn, world, document_id)
        if owner is None or owner["organism"] != session["organism"]:
            return _render("error.html", status=404, message="Pas de pièce de ce nom dans votre pôle.")
        try:
            content_type, content = await self.scor.get(session["technician"], world, document_id)
        except DocumentUnavailable as exc:
            return _render(
                "error.html",
                status=403,
                message=f"Le serveur Scor ne délivre pas cette pièce à {session['technician']} ({exc}).",
            )
        return web.Response(
            body=content,
            content_type=content_type,
            headers={"Content-Disposition": f'inline; filename="{document_id}"'},
        )

    # -- API ----------------------------------------------------------------------------------
    def _check_token(self, request: web.Request) -> None:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.encode(), self.api_token.encode()):
            raise web.HTTPUnauthorized(
                text=_error_json("Authorization", "a valid Bearer token is required"),
                content_type="application/json",
            )

    async def _json_body(self, request: web.Request) -> dict[str, Any]:
        try:
            body = await request.json()
        except ValueError:
            raise _bad_request("body", "not JSON") from None
        if not isinstance(body, dict):
            raise _bad_request("body", "must be a JSON object")
        return body

    async def _api_decide(self, request: web.Request) -> web.Response:
        self._check_token(request)
        body = await self._json_body(request)
        try:
            result = await self.decisions.decide(
                world=_text(body, "world"),
                fse_id=_text(body, "fse"),
                outcome=_text(body, "outcome"),
                technician=_text(body, "technician"),
                on=_day(body, "on"),
            )
        except DecisionRefused as exc:
            return _error(exc.status, exc.field, exc.message)
        return web.json_response(result)

    async def _api_validate(self, request: web.Request) -> web.Response:
        self._check_token(request)
        body = await self._json_body(request)
        try:
            result = await self.decisions.validate_all(
                world=_text(body, "world"),
                organism=_text(body, "organism"),
                technician=_text(body, "technician"),
                on=_day(body, "on"),
            )
        except DecisionRefused as exc:
            return _error(exc.status, exc.field, exc.message)
        return web.json_response(result)

    async def _api_fse(self, request: web.Request) -> web.Response:
        self._check_token(request)
        async with self.pool.acquire() as conn:
            row = await pg.fse(conn, request.match_info["world"], request.match_info["fse_id"])
        if row is None:
            return _error(404, "fse", "unknown")
        return web.json_response(
            {
                key: (value.isoformat() if isinstance(value, date) else value)
                for key, value in row.items()
                if key != "classified"
            }
        )


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


def _error(status: int, field: str, message: str) -> web.Response:
    return web.json_response({"error": {"field": field, "message": message}}, status=status)


def _error_json(field: str, message: str) -> str:
    return json.dumps({"error": {"field": field, "message": message}})


def _bad_request(field: str, message: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(text=_error_json(field, message), content_type="application/json")


def _text(body: dict[str, Any], field: str) -> str:
    value = body.get(field)
    if not isinstance(value, str) or not value:
        raise _bad_request(field, "required, a non-empty string")
    return value


def _day(body: dict[str, Any], field: str) -> date | None:
    value = body.get(field)
    if value is None:
        return None
    try:
        return parse_day(value)
    except ValueError:
        raise _bad_request(field, f"{value!r} is not a date (YYYY-MM-DD)") from None
