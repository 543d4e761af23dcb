"""Scenarios for the pôle's timeline, built in code so that each date is explained where it is set.

2026 holidays used: Whit Monday 25 May, Bastille Day Tuesday 14 July, Armistice Wednesday 11
November.
"""

from __future__ import annotations

from itertools import count
from typing import Any

P1 = ("2860133063082", "17")  # 01-331
P2 = ("2910133099087", "45")  # 01-331
P3 = ("1400233011002", "97")  # 02-331
KNOWN_PRESCRIBER = "10003456786"
UNKNOWN_PRESCRIBER = "10003456794"  # well-formed, not in the directory: litigieuse


def world() -> dict[str, Any]:
    rights = [{"from": "2020-01-01", "to": "2030-12-31"}]
    return {
        "organisms": ["01-331", "01-401"],
        "professionals": [
            {"id": "ps-a", "adeli": "331012345", "organism": "01-331", "compagnon": True,
             "scor_since": "2026-01-05", "transmitting_since": "2019-05-01", "replacing": None},
            {"id": "ps-b", "adeli": "331054321", "organism": "01-331", "compagnon": False,
             "scor_since": None, "transmitting_since": "2019-05-01", "replacing": None},
            {"id": "ps-c", "adeli": "401011111", "organism": "01-401", "compagnon": True,
             "scor_since": None, "transmitting_since": "2019-05-01", "replacing": None},
        ],
        "prescribers": [KNOWN_PRESCRIBER],
        "patients": [
            {"nir": nir, "key": key, "organism": organism, "rights": rights, "ald": False,
             "signature_exempt": False}
            for (nir, key), organism in ((P1, "01-331"), (P2, "01-331"), (P3, "02-331"))
        ],
        "hospital_stays": [],
    }  # fmt: skip


class Sheets:
    """FSE with acts on distinct days, so that no two of them are duplicates of each other."""

    def __init__(self, last_act_day: str) -> None:
        year, month, day = (int(x) for x in last_act_day.split("-"))
        self._year, self._month, self._day = year, month, day
        self._offsets = count()

    def _act_day(self) -> str:
        from datetime import date, timedelta

        return (date(self._year, self._month, self._day) - timedelta(days=next(self._offsets))).isoformat()

    def fse(
        self,
        ident: str,
        patient: tuple[str, str] = P1,
        *,
        key: str | None = None,
        mode: str = "securise",
        prescriber: str = KNOWN_PRESCRIBER,
        document: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        sheet: dict[str, Any] = {
            "id": ident,
            "nir": patient[0],
            "key": key or patient[1],
            "mode": mode,
            "prescriber": prescriber,
            "prescribed_on": "2026-01-02",
            "acts": [{"code": "AMI", "coef": 2, "on": self._act_day(), "complements": []}],
        }
        if document is not None:
            sheet["document"] = document
        return sheet


def lot(on: str, ident: str, ps: str, *sheets: dict[str, Any]) -> dict[str, Any]:
    return {"on": on, "lot": {"id": ident, "ps": ps, "fse": list(sheets)}}


def decision(on: str, fse: str, outcome: str, technician: str) -> dict[str, Any]:
    return {"on": on, "decision": {"fse": fse, "outcome": outcome, "technician": technician}}


def document(on: str, ident: str, ps: str, fse: str, kind: str = "prescription") -> dict[str, Any]:
    return {"on": on, "document": {"id": ident, "ps": ps, "fse": fse, "kind": kind, "quality": "ok"}}


def whit_monday() -> dict[str, Any]:
    """Around Whit Monday (25 May 2026): every kind of FSE a pôle sees in a fortnight."""
    s = Sheets("2026-05-18")
    events = [
        lot(
            "2026-05-19",
            "l-tue-a",
            "ps-a",
            s.fse("w-after"),  # its prescription comes on its own, on Friday 22
            s.fse("w-litig-accord", prescriber=UNKNOWN_PRESCRIBER),
            s.fse("w-litig-rejet", P2, prescriber=UNKNOWN_PRESCRIBER),
            s.fse("w-rejet", key="18"),  # wrong NIR key: corrected on Friday 22
        ),
        lot(
            "2026-05-19",
            "l-tue-b",
            "ps-b",
            s.fse("w-b-rejet", P2, key="44"),
            s.fse("w-b-litig", P2, prescriber=UNKNOWN_PRESCRIBER),
        ),
        document("2026-05-19", "d-first", "ps-a", "w-docfirst"),  # before its FSE (Thursday 21)
        decision("2026-05-20", "w-litig-accord", "accord", "t-33-01"),
        decision("2026-05-20", "w-b-litig", "rejet", "t-33-02"),
        lot(
            "2026-05-20",
            "l-wed-a",
            "ps-a",
            s.fse("w-with", document={"id": "d-with", "kind": "prescription", "quality": "ok"}),
        ),
        decision("2026-05-21", "w-litig-rejet", "rejet", "t-33-01"),
        lot("2026-05-21", "l-thu-a", "ps-a", s.fse("w-docfirst")),
        lot(
            "2026-05-22",
            "l-fri-a",
            "ps-a",
            s.fse("w-friday"),
            s.fse("w-paper", mode="papier"),
            s.fse("w-degrade", mode="degrade", document={"id": "d-fsp", "kind": "fsp", "quality": "ok"}),
        ),
        lot("2026-05-22", "l-fri-c", "ps-c", s.fse("c-accord", P3)),
        document("2026-05-22", "d-after", "ps-a", "w-after"),
        {
            "on": "2026-05-22",
            "correction": {
                "replaces": "w-rejet",
                "lot": {"id": "l-fix", "ps": "ps-a", "fse": [s.fse("w-fixed")]},
            },
        },
        # Not a litigieuse: the pôle refuses the decision, the replay reports it.
        decision("2026-05-26", "w-friday", "rejet", "t-33-01"),
    ]
    return {
        "name": "pole-whit-monday",
        "start": "2026-05-18",
        "until": "2026-06-12",
        "world": world(),
        "events": events,
    }


def bastille_day() -> dict[str, Any]:
    """Around Tuesday 14 July 2026."""
    s = Sheets("2026-07-06")
    return {
        "name": "pole-bastille-day",
        "start": "2026-07-06",
        "until": "2026-07-24",
        "world": world(),
        "events": [
            lot("2026-07-09", "l-thu", "ps-a", s.fse("j-thu")),
            lot("2026-07-13", "l-mon", "ps-a", s.fse("j-mon")),
        ],
    }


def armistice() -> dict[str, Any]:
    """Around Wednesday 11 November 2026."""
    s = Sheets("2026-11-02")
    return {
        "name": "pole-armistice",
        "start": "2026-11-02",
        "until": "2026-11-20",
        "world": world(),
        "events": [
            lot("2026-11-06", "l-fri", "ps-a", s.fse("n-fri")),
            lot("2026-11-10", "l-tue", "ps-a", s.fse("n-tue")),
            document("2026-11-10", "d-tue", "ps-a", "n-tue"),
        ],
    }


def console() -> dict[str, Any]:
    """Sent on Tuesday 19 May, the replay's last day: delivered on Wednesday 20, the open day, with
    an accord to validate and a litigieuse (with its prescription) waiting for a technician."""
    s = Sheets("2026-05-15")
    return {
        "name": "pole-console",
        "start": "2026-05-18",
        "until": "2026-05-19",
        "world": world(),
        "events": [
            lot(
                "2026-05-19",
                "l-console",
                "ps-a",
                s.fse(
                    "k-litig",
                    prescriber=UNKNOWN_PRESCRIBER,
                    document={"id": "d-k", "kind": "prescription", "quality": "ok"},
                ),
                s.fse("k-accord"),
            ),
            lot("2026-05-19", "l-console-c", "ps-c", s.fse("k-landes", P3, prescriber=UNKNOWN_PRESCRIBER)),
        ],
    }
