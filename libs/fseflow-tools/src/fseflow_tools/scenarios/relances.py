"""Ten months of relances (R13) and aids (R22), built in code so that each date is explained.

ps-a's first lot (Tuesday 3 March 2026) is delivered on the 4th and paid on Monday 9 March:
J0. Then J30 = Wednesday 8 April (overdue), J45 = Thursday 23 April (reminder), J75 = Saturday
23 May -> Whit Monday 25 -> Tuesday 26 May (indu), J135 = Wednesday 22 July (recovery from ps-a's
first payment on or after it: Monday 27 July).
"""

from __future__ import annotations

from typing import Any

from fseflow_tools.scenarios.pole import KNOWN_PRESCRIBER, P1, P2, P3

DOC = {"kind": "prescription", "quality": "ok"}


def _world() -> dict[str, Any]:
    rights = [{"from": "2020-01-01", "to": "2030-12-31"}]
    return {
        "organisms": ["01-331", "01-401"],
        "professionals": [
            # First FSE ever in this scenario: 100 € with their first payment.
            {"id": "ps-a", "adeli": "331012345", "organism": "01-331", "compagnon": False,
             "scor_since": None, "transmitting_since": None, "replacing": None},
            {"id": "ps-b", "adeli": "331054321", "organism": "01-331", "compagnon": False,
             "scor_since": None, "transmitting_since": "2019-05-01", "replacing": None},
            {"id": "ps-c", "adeli": "401011111", "organism": "01-401", "compagnon": False,
             "scor_since": None, "transmitting_since": "2026-03-02", "replacing": None},
        ],
        "prescribers": [KNOWN_PRESCRIBER],
        "patients": [
            {"nir": nir, "key": key, "organism": organism, "rights": rights, "ald": False,
             "signature_exempt": False}
            for (nir, key), organism in ((P1, "01-331"), (P2, "01-331"), (P3, "02-331"))
        ],
        "hospital_stays": [
            # 200 days after h-200's act (10 March): known Saturday 26 September -> indu Monday
            # 28, recovered from 25 November (+60) on ps-b's payment of Monday 30 November.
            {"nir": P2[0], "from": "2026-03-09", "to": "2026-03-12", "known_on": "2026-09-26"},
            # 400 days after h-400's act (1 November 2025): too late, nothing happens.
            {"nir": P3[0], "from": "2025-10-30", "to": "2025-11-03", "known_on": "2026-12-06"},
        ],
    }  # fmt: skip


def _fse(ident: str, patient: tuple[str, str], acts: list[tuple[str, int]], **extra: Any) -> dict[str, Any]:
    return {
        "id": ident,
        "nir": patient[0],
        "key": patient[1],
        "mode": extra.pop("mode", "securise"),
        "prescriber": KNOWN_PRESCRIBER,
        "prescribed_on": "2025-10-01",
        "acts": [{"code": "AMI", "coef": coef, "on": on, "complements": []} for on, coef in acts],
        **extra,
    }


def _with_document(sheet: dict[str, Any]) -> dict[str, Any]:
    return {**sheet, "document": {"id": f"d-{sheet['id']}", **DOC}}


def _lot(on: str, ident: str, ps: str, *sheets: dict[str, Any]) -> dict[str, Any]:
    return {"on": on, "lot": {"id": ident, "ps": ps, "fse": list(sheets)}}


def _document(on: str, fse: str, ps: str = "ps-a") -> dict[str, Any]:
    return {"on": on, "document": {"id": f"d-{fse}", "ps": ps, "fse": fse, **DOC}}


def ten_months() -> dict[str, Any]:
    events = [
        _lot(
            "2026-03-03",
            "l-a-march",
            "ps-a",
            _fse("r-doc-before-j30", P1, [("2026-03-02", 1)]),
            _fse("r-doc-j45-j75", P1, [("2026-03-01", 1)]),
            _fse("r-doc-j75-j135", P1, [("2026-02-28", 1)]),
            # 3 x AMI 4 = 22.68 €: more than ps-a's next payments, carried over three of them.
            _fse("r-doc-never", P1, [("2026-02-25", 4), ("2026-02-26", 4), ("2026-02-27", 4)]),
        ),
        _lot("2026-03-03", "l-c-march", "ps-c", _with_document(_fse("h-400", P3, [("2025-11-01", 4)]))),
        _lot(
            "2026-03-11",
            "l-b-march",
            "ps-b",
            _with_document(_fse("h-200", P2, [("2026-03-10", 4)])),
            _with_document(
                _fse("b-paper", P2, [("2026-03-05", 1), ("2026-03-06", 1), ("2026-03-07", 1)], mode="papier")
            ),
        ),
        _document("2026-03-20", "r-doc-before-j30"),  # matched Monday 23 March, before J30
        _document("2026-05-04", "r-doc-j45-j75"),  # matched 5 May: after the reminder, before the indu
        _document("2026-06-15", "r-doc-j75-j135"),  # matched 16 June: after the indu, before J135
        # ps-a's payments from J135 on: 27 July (1.89 €), 10 August and 24 August (15.12 € each).
        _lot("2026-07-20", "l-a-july", "ps-a", _with_document(_fse("r-small", P1, [("2026-07-17", 1)]))),
        _lot(
            "2026-08-03",
            "l-a-august",
            "ps-a",
            _with_document(_fse("r-next", P1, [("2026-07-30", 4), ("2026-07-31", 4)])),
        ),
        _lot(
            "2026-08-17",
            "l-a-august-2",
            "ps-a",
            _with_document(_fse("r-last", P1, [("2026-08-13", 4), ("2026-08-14", 4)])),
        ),
        # ps-b's payment of Monday 30 November takes back h-200's 7.56 €.
        _lot(
            "2026-11-23",
            "l-b-november",
            "ps-b",
            _with_document(_fse("b-payday", P2, [("2026-11-19", 4), ("2026-11-20", 4)])),
        ),
    ]
    return {
        "name": "relances-ten-months",
        "start": "2026-03-02",
        # Monday 4 January 2027 is the first business day of 2027: the 300 € aids.
        "until": "2027-01-04",
        "world": _world(),
        "events": events,
    }
