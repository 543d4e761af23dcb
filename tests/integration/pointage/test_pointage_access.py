"""Access to the pôle against the running stack (decisions.md D40-D44): each technician's token
reaches only their organism's FSE and decides as them; the console's sessions end server-side;
logins are throttled in PostgreSQL; odd bytes get a 400 naming the field; the replay's and the
command line's technicians."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import aiohttp
import asyncpg
import pytest
import pytest_asyncio
from yarl import URL

from fseflow.contracts.cti.v1.classification_pb2 import CLASSIFICATION_LITIGIEUSE
from fseflow.topics import caisse_topics
from fseflow_tools.replay.technicians import ReplayTechnicians, TechnicianRefused
from tests.conftest import RunningStack
from tests.integration.helpers import NIR, new_world, reading
from tests.integration.pointage.test_pointage import DAY, Publisher, classified
from tests.integration.technicians import PASSWORD, add_technician, api, console, csrf_of, log_in

pytestmark = pytest.mark.integration

GIRONDE, PARIS = "01-331", "01-751"
DELIVERED_ON = "2026-03-03"  # the FSE of DAY reach the pôle the next business day


@dataclass
class Pole:
    world: str
    gironde: str  # the token of t-acc-33, a technician of 01-331
    paris: str  # the token of t-acc-75, of 01-751


@pytest_asyncio.fixture(scope="module")
async def pole(running: RunningStack) -> Pole:
    """Litigieuses of both organisms delivered; one technician (and token) of each."""
    world = await new_world(running)
    publisher = Publisher(running)
    specs = (*caisse_topics(GIRONDE), *caisse_topics(PARIS))
    await running.kafka().ensure_topics(specs)
    async with reading(running, world, *specs) as seen:
        litigieuses = ("f-read", "f-decide", "f-console", "f-logout")
        await publisher.send(
            [publisher.fse(classified(world, fse, CLASSIFICATION_LITIGIEUSE)) for fse in litigieuses]
            + [
                publisher.fse(classified(world, "f-paris", CLASSIFICATION_LITIGIEUSE, organism=PARIS)),
                publisher.fse(classified(world, "f-accord")),
            ]
        )
        await publisher.send(publisher.close(world, DAY))
        await seen.wait_day(DAY.isoformat(), specs, 60)
    return Pole(
        world,
        await add_technician(running, "t-acc-33", GIRONDE),
        await add_technician(running, "t-acc-75", PARIS),
    )


async def _state(running: RunningStack, pole: Pole, fse: str) -> tuple[object, object]:
    status, body = await api(running, "GET", f"/api/v1/fse/{pole.world}/{fse}", pole.gironde)
    assert status == 200, body
    return body["state"], body["decided_by"]


async def test_another_organisms_token_neither_reads_nor_decides_an_fse(
    running: RunningStack, pole: Pole
) -> None:
    path = f"/api/v1/fse/{pole.world}/f-read"
    status, own = await api(running, "GET", path, pole.gironde)
    assert (status, own["nir"], own["organism"]) == (200, NIR, GIRONDE)

    # To 01-751's technician the FSE does not exist: the same answer as for an unknown id.
    status, other = await api(running, "GET", path, pole.paris)
    _, unknown = await api(running, "GET", f"/api/v1/fse/{pole.world}/f-none", pole.paris)
    assert status == 404 and NIR not in str(other)
    assert other == {"error": {"field": "fse", "message": "no FSE 'f-read' in this pôle"}}
    assert unknown == {"error": {"field": "fse", "message": "no FSE 'f-none' in this pôle"}}

    decision = {"world": pole.world, "fse": "f-read", "outcome": "rejet", "on": DELIVERED_ON}
    status, refused = await api(running, "POST", "/api/v1/decisions", pole.paris, decision)
    assert (status, refused["error"]["field"]) == (404, "fse")
    status, _ = await api(running, "POST", "/api/v1/decisions", pole.gironde, {**decision, "fse": "f-paris"})
    assert status == 404
    assert await _state(running, pole, "f-read") == ("pending_review", None)

    for token in (None, "wrong", "ptk_" + "x" * 43):
        status, body = await api(running, "GET", path, token)
        assert (status, body["error"]["field"]) == (401, "Authorization")


async def test_a_decision_is_recorded_as_the_tokens_technician_never_the_bodys(
    running: RunningStack, pole: Pole
) -> None:
    decision = {"world": pole.world, "fse": "f-decide", "outcome": "accord", "on": DELIVERED_ON}
    for impostor in ("nobody-at-all", "t-acc-75"):
        status, body = await api(
            running, "POST", "/api/v1/decisions", pole.gironde, {**decision, "technician": impostor}
        )
        assert (status, body["error"]["field"]) == (403, "technician")
        assert f"'{impostor}' is not the authenticated technician's ('t-acc-33')" in body["error"]["message"]
    assert await _state(running, pole, "f-decide") == ("pending_review", None)

    status, body = await api(running, "POST", "/api/v1/decisions", pole.gironde, decision)
    assert (status, body["state"]) == (200, "validated")
    assert await _state(running, pole, "f-decide") == ("validated", "t-acc-33")
    # Naming oneself is accepted (a retried request is answered, not decided twice).
    status, body = await api(
        running, "POST", "/api/v1/decisions", pole.gironde, {**decision, "technician": "t-acc-33"}
    )
    assert (status, body["already_decided"]) == (200, True)

    validate = {"world": pole.world, "on": DELIVERED_ON}
    status, body = await api(
        running, "POST", "/api/v1/accords/validate", pole.gironde, {**validate, "organism": PARIS}
    )
    assert (status, body["error"]["field"]) == (403, "organism")
    status, body = await api(running, "POST", "/api/v1/accords/validate", pole.paris, validate)
    assert (status, body["validated"]) == (200, 0)  # 01-751 has no accord; 01-331's stays
    status, body = await api(running, "POST", "/api/v1/accords/validate", pole.gironde, validate)
    assert (status, body["validated"]) == (200, 1)
    assert await _state(running, pole, "f-accord") == ("validated", "t-acc-33")


async def test_a_token_from_a_password_login_works_until_revoked(running: RunningStack, pole: Pole) -> None:
    login = {"technician": "t-acc-75", "password": PASSWORD, "label": "caisse batch"}
    status, body = await api(running, "POST", "/api/v1/tokens", None, login)
    assert (status, body["technician"], body["organism"]) == (201, "t-acc-75", PARIS)
    token = str(body["token"])
    assert (await api(running, "GET", f"/api/v1/fse/{pole.world}/f-paris", token))[0] == 200
    assert (await api(running, "DELETE", "/api/v1/tokens/current", token))[0] == 200
    assert (await api(running, "GET", f"/api/v1/fse/{pole.world}/f-paris", token))[0] == 401
    status, body = await api(running, "POST", "/api/v1/tokens", None, {**login, "password": "wrong-password"})
    assert (status, body["error"]["field"]) == (401, "password")


async def test_the_console_of_another_organism_cannot_decide_an_fse(
    running: RunningStack, pole: Pole
) -> None:
    async with console(running) as http:
        assert (await log_in(http, "t-acc-75")).status == 302
        csrf = await csrf_of(http, pole.world)
        async with http.get("/console", params={"world": pole.world}) as page:
            text = await page.text()
        assert "f-console" not in text and NIR not in text and "f-paris" in text
        form = {"csrf": csrf, "world": pole.world, "fse": "f-console", "outcome": "accord"}
        async with http.post("/console/decide", data=form, allow_redirects=False) as answer:
            assert answer.status == 302
            assert (
                "Refusé — no FSE 'f-console' in this pôle" in URL(answer.headers["Location"]).query["message"]
            )
    assert await _state(running, pole, "f-console") == ("pending_review", None)


async def test_logging_out_ends_the_session_for_a_copied_cookie_too(
    running: RunningStack, pole: Pole
) -> None:
    async with console(running) as http:
        assert (await log_in(http, "t-acc-33")).status == 302
        csrf = await csrf_of(http, pole.world)
        stolen = {cookie.key: cookie.value for cookie in http.cookie_jar}
        async with http.post("/console/logout", data={"csrf": csrf}, allow_redirects=False) as out:
            assert (out.status, out.headers["Location"]) == (302, "/console/login")

    async with aiohttp.ClientSession(base_url=running.state.pointage_url, cookies=stolen) as thief:
        async with thief.get("/console", allow_redirects=False) as page:
            assert (page.status, page.headers["Location"]) == (302, "/console/login")
        form = {"csrf": csrf, "world": pole.world, "fse": "f-logout", "outcome": "rejet"}
        async with thief.post("/console/decide", data=form, allow_redirects=False) as answer:
            assert (answer.status, answer.headers["Location"]) == (302, "/console/login")
    assert await _state(running, pole, "f-logout") == ("pending_review", None)


async def _age_failures(running: RunningStack, where: str, *args: object) -> None:
    """Moves failed logins a day back: the window has passed, without waiting on a clock."""
    conn = await asyncpg.connect(running.state.database_url)
    try:
        await conn.execute(
            f"UPDATE pointage.login_failures SET failed_at = failed_at - interval '1 day' WHERE {where}",
            *args,
        )
    finally:
        await conn.close()


async def test_logins_are_throttled_per_technician_then_open_after_the_window(
    running: RunningStack, pole: Pole
) -> None:
    await add_technician(running, "t-acc-lock", GIRONDE)
    async with console(running) as http:
        for _ in range(5):  # POINTAGE_LOGIN_MAX_FAILURES
            assert (await log_in(http, "t-acc-lock", "wrong-password")).status == 401
        # Now even the right password is refused, saying until when.
        async with http.post(
            "/console/login", data={"technician": "t-acc-lock", "password": PASSWORD}, allow_redirects=False
        ) as refused:
            text = await refused.text()
            assert refused.status == 429
            assert 0 < int(refused.headers["Retry-After"]) <= 900
        assert "Trop de tentatives de connexion pour t-acc-lock" in text and "réessayez après" in text
        status, body = await api(
            running, "POST", "/api/v1/tokens", None, {"technician": "t-acc-lock", "password": PASSWORD}
        )
        assert (status, body["error"]["field"]) == (429, "technician")
        assert "retry after" in str(body["error"]["message"])

        await _age_failures(running, "technician_id = $1", "t-acc-lock")
        assert (await log_in(http, "t-acc-lock")).status == 302


async def test_logins_are_throttled_per_client_address(running: RunningStack, pole: Pole) -> None:
    ghosts = f"ghost-{uuid.uuid4().hex[:6]}-%"
    # The budget is per address, and every test of the session logs in from 127.0.0.1: the
    # failures of earlier tests (other modules too) would lock the address before the 50th.
    await _age_failures(running, "true")
    try:
        async with console(running) as http:
            for number in range(50):  # POINTAGE_LOGIN_MAX_FAILURES_PER_CLIENT, each id new
                assert (await log_in(http, ghosts.replace("%", str(number)), "wrong-password")).status == 401
            # A real technician with the right password, from the same address: refused too.
            assert (await log_in(http, "t-acc-33")).status == 429
            await _age_failures(running, "technician_id LIKE $1", ghosts)
            assert (await log_in(http, "t-acc-33")).status == 302
    finally:
        await _age_failures(running, "technician_id LIKE $1", ghosts)  # the other tests log in from here


async def _raw(running: RunningStack, request: bytes) -> tuple[int, bytes]:
    """A request sent as bytes (what no well-behaved client library sends)."""
    url = URL(running.state.pointage_url)
    reader, writer = await asyncio.open_connection(url.host, url.port)
    try:
        writer.write(request)
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(65536), 10)
    finally:
        writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


async def test_odd_bytes_get_a_400_naming_the_field(running: RunningStack, pole: Pole) -> None:
    base, fse_path = running.state.pointage_url, f"/api/v1/fse/{pole.world}/"
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {pole.gironde}"}) as http:

        async def answer(method: str, path: str, **kwargs: object) -> tuple[int, str]:
            async with http.request(method, URL(base + path, encoded=True), **kwargs) as response:  # type: ignore[arg-type]
                return response.status, await response.text()

        assert await answer("GET", fse_path + "f%00x") == (
            400,
            '{"error": {"field": "fse", "message": "contains a NUL byte"}}',
        )
        status, text = await answer("GET", fse_path + "f%FFx")
        assert status == 400 and '"field": "fse"' in text and "not valid UTF-8" in text
        status, text = await answer("GET", "/console%00")
        assert status == 400 and "path : contains a NUL byte" in text
        status, text = await answer("GET", "/console?world=w%00")
        assert status == 400 and "world : contains a NUL byte" in text
        status, text = await answer("GET", "/console/login?x=%C3")
        assert status == 400 and "x : is not valid UTF-8" in text
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        status, text = await answer(
            "POST", "/console/login", data=b"technician=t%00&password=x", headers=form
        )
        assert status == 400 and "technician : contains a NUL byte" in text
        status, text = await answer(
            "POST", "/console/login", data=b"technician=t-acc-33&password=%FF", headers=form
        )
        assert status == 400 and "password : is not valid UTF-8" in text
        decision = {"world": pole.world, "fse": "f\x00", "outcome": "accord"}
        status, text = await answer("POST", "/api/v1/decisions", json=decision)
        assert status == 400 and '"field": "fse"' in text
        status, text = await answer("POST", "/api/v1/decisions", data=b'{"fse": "\xff"}')
        assert status == 400 and '"field": "body"' in text
    # Raw bytes in the request line: refused by the HTTP parser or by the checks, never a 500.
    status, _ = await _raw(
        running, b"GET /console?world=\xff\x00 HTTP/1.1\r\nHost: pole\r\nConnection: close\r\n\r\n"
    )
    assert status == 400


async def test_the_replays_technicians_act_only_for_their_organism_and_lose_their_tokens(
    running: RunningStack, pole: Pole
) -> None:
    technicians = ReplayTechnicians(running.state.database_url, "integration replay")
    try:
        token = await technicians.token("t-acc-replay", PARIS)
        assert await technicians.token("t-acc-replay", PARIS) == token  # one per technician
        status, body = await api(running, "GET", f"/api/v1/fse/{pole.world}/f-paris", token)
        assert status == 200 and body["organism"] == PARIS
        with pytest.raises(TechnicianRefused, match="t-acc-33 is a technician of 01-331, not of 01-751"):
            await technicians.token("t-acc-33", PARIS)
        with pytest.raises(TechnicianRefused, match=r"technician: .*is not a technician id"):
            await technicians.token("nobody at all", PARIS)
    finally:
        await technicians.close()
    assert (await api(running, "GET", f"/api/v1/fse/{pole.world}/f-paris", token))[0] == 401


def _cli(
    running: RunningStack, *args: str, stdin: str | None = None, extra_env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "FSEFLOW_TECHNICIAN_PASSWORD"}
    env.update(DATABASE_URL=running.state.database_url, **(extra_env or {}))
    return subprocess.run(
        [sys.executable, "-m", "fseflow_tools.cli.main", "pointage", "technician", *args],
        env=env,
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def cli_technician() -> Iterator[str]:
    yield f"t-cli-{uuid.uuid4().hex[:6]}"


async def test_the_command_line_adds_a_technician_without_a_terminal_and_issues_tokens(
    running: RunningStack, pole: Pole, cli_technician: str
) -> None:
    added = await asyncio.to_thread(
        _cli, running, "add", cli_technician, "--organism", GIRONDE, "--no-certificate"
    )
    assert added.returncode == 2 and "--password-stdin" in added.stderr  # no terminal to ask on
    added = await asyncio.to_thread(
        _cli, running, "add", cli_technician, "--organism", GIRONDE, "--password-stdin", "--no-certificate",
        stdin="cli-pass-1\n",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    issued = await asyncio.to_thread(_cli, running, "token", cli_technician)
    assert issued.returncode == 0, issued.stderr
    token = issued.stdout.strip()
    assert token.startswith("ptk_") and issued.stdout.count("\n") == 1
    assert (await api(running, "GET", f"/api/v1/fse/{pole.world}/f-read", token))[0] == 200
    async with console(running) as http:
        assert (await log_in(http, cli_technician, "cli-pass-1")).status == 302

    revoked = await asyncio.to_thread(_cli, running, "revoke", cli_technician)
    assert revoked.returncode == 0 and "1 token(s) revoked, 1 console session(s) ended" in revoked.stdout
    assert (await api(running, "GET", f"/api/v1/fse/{pole.world}/f-read", token))[0] == 401
    # The password from the environment: the new one works, the old one no longer.
    changed = await asyncio.to_thread(
        lambda: _cli(
            running, "add", cli_technician, "--organism", GIRONDE, "--no-certificate",
            extra_env={"FSEFLOW_TECHNICIAN_PASSWORD": "cli-pass-2"},
        )
    )  # fmt: skip
    assert changed.returncode == 0, changed.stderr
    async with console(running) as http:
        assert (await log_in(http, cli_technician, "cli-pass-1")).status == 401
        assert (await log_in(http, cli_technician, "cli-pass-2")).status == 302
    unknown = await asyncio.to_thread(_cli, running, "token", "t-nobody-here")
    assert unknown.returncode == 2 and "no technician 't-nobody-here'" in unknown.stderr
