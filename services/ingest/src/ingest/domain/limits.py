"""Every documented limit of ingest's gRPC API, in one place (services/ingest/README.md lists them;
docs/decisions.md D35 says which refusal each one gets).

A request over one of these is refused with INVALID_ARGUMENT naming the field (nothing registered,
no ARL), except the request size, which gRPC itself refuses with RESOURCE_EXHAUSTED.
"""

from __future__ import annotations

# One request (a lot with its attachments, or one message of a document's stream).
MAX_REQUEST_BYTES = 64 * 1024 * 1024
# Every string field of SubmitLotRequest and DocumentSubmission, in characters. Generous on
# purpose: a wrong NIR, an unknown act code or a malformed date still reach the ARL or the
# national check (the contract's refusals); only what no sheet can hold is refused here.
MAX_TEXT_CHARS = 64
# The strings of an act line (code, coefficient, date, complements), repeated up to 999 times in
# an FSE: shorter, so that the largest FSE stays one broker record.
MAX_ACT_TEXT_CHARS = 16
# B2 norm: the invoice trailer counts its act lines on 3 digits, the lot trailer its invoices
# on 3 digits and its acts on 4 (docs/decisions.md D35).
MAX_FSE_PER_LOT = 999
MAX_ACTS_PER_FSE = 999
MAX_ACTS_PER_LOT = 9_999
# F, N and NP: an act line cannot carry more distinct complements.
MAX_COMPLEMENTS_PER_ACT = 3
# A negative ARL lists at most this many problems, then one ARL_TRUNCATED entry with the count
# of the others: the ARL stays well under the broker's record limit.
MAX_ARL_PROBLEMS = 1_000
# The smallest record limit on the way (librdkafka's message.max.bytes default); with the caps
# above no FSE or ARL record comes near it (tests/unit/test_request_bounds.py measures it).
MAX_RECORD_BYTES = 1_000_000
# Violations listed in an INVALID_ARGUMENT's details (then "... and N more").
MAX_LISTED_VIOLATIONS = 20
