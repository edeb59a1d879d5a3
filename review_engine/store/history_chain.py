"""The hash chain that makes a changed, forged or missing history row show.

Each `TransitionLog` row carries `hash` = SHA-256 (hex) of the compact JSON array

    [prev_hash, cycle_id, school_urn, machine, from_state, to_state, trigger, actor, reason, at]

(`json.dumps(..., ensure_ascii=False, separators=(",", ":"))`, UTF-8; `at` in UTC as
`2026-09-03T05:00:00.000000+00:00`), where `prev_hash` (also stored) is the hash of the cycle's
previous row in id order, or `GENESIS` for its first. Anyone can recompute it with those two
lines of Python. A row altered after it was written no longer matches its hash; a row deleted
breaks the link of the next; a row inserted by hand has no hash, or one that does not link.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from hashlib import sha256
from json.encoder import encode_basestring

from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import Integer
from sqlmodel import Session

from review_engine.store.history_protection import PG_HEADS

GENESIS = "0" * 64
# The cycles whose chain heads this transaction has read (and, on PostgreSQL, locked), and
# their heads as it has since written them: a second write in one transaction reads nothing.
_HEADS_KEY = "history_chain_heads"


def in_utc(at: datetime) -> datetime:
    """An instant in UTC; SQLite hands back naive datetimes, all UTC."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def utc_text(at: datetime) -> str:
    """An instant as the chain encodes it."""
    return in_utc(at).isoformat(timespec="microseconds")


def row_hash(
    prev_hash: str,
    cycle_id: int,
    school_urn: int | None,
    machine: str,
    from_state: str,
    to_state: str,
    trigger: str,
    actor: str,
    reason: str | None,
    at: datetime,
) -> str:
    """The reference form of a row's hash (verification uses it; `Hasher` must agree)."""
    fields = [prev_hash, cycle_id, school_urn, machine, from_state, to_state, trigger]
    fields += [actor, reason, utc_text(at)]
    encoded = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
    return sha256(encoded.encode()).hexdigest()


class Hasher:
    """Hashes many rows sharing one actor and time, as `row_hash` does but faster: the JSON
    is put together from escaped strings, and what follows the school is encoded once per
    (machine, from, to, trigger, reason), which a batch repeats."""

    def __init__(self, actor: str, at: datetime) -> None:
        self.actor = encode_basestring(actor)
        self.at = encode_basestring(utc_text(at))
        self.rest: dict[tuple[str, str, str, str, str | None], bytes] = {}

    def __call__(
        self,
        prev_hash: str,
        cycle_id: int,
        school_urn: int | None,
        machine: str,
        from_state: str,
        to_state: str,
        trigger: str,
        reason: str | None,
    ) -> str:
        key = (machine, from_state, to_state, trigger, reason)
        rest = self.rest.get(key)
        if rest is None:
            why = "null" if reason is None else encode_basestring(reason)
            rest = self.rest[key] = (
                f"{encode_basestring(machine)},{encode_basestring(from_state)},"
                f"{encode_basestring(to_state)},{encode_basestring(trigger)},"
                f"{self.actor},{why},{self.at}]"
            ).encode()
        urn = "null" if school_urn is None else f"{school_urn:d}"
        return sha256(f'["{prev_hash}",{cycle_id:d},{urn},'.encode() + rest).hexdigest()


def heads(session: Session, cycle_ids: Iterable[int]) -> dict[int, str]:
    """The latest hash of each cycle's chain (GENESIS for an empty one), for appending to; a
    row without a hash (written by hand) is not part of any chain.

    One query for the cycles this transaction has not read yet, none for the rest. On
    PostgreSQL it first locks those cycles' rows (one function call, `PG_HEADS`), so two
    transactions appending to one chain take turns rather than fork it; SQLite writers are
    already serialised (BEGIN IMMEDIATE). The caller must put back each head it appends."""
    conn = session.connection()  # begins the transaction the heads belong to
    known = _known(session)
    wanted = sorted({c for c in cycle_ids if c not in known})
    if wanted:
        if conn.dialect.name == "postgresql":
            query = text(f"SELECT head_cycle, head_hash FROM {PG_HEADS}(:ids)").bindparams(
                bindparam("ids", wanted, type_=ARRAY(Integer))
            )
        else:
            query = text(
                "SELECT cycle_id, hash FROM transitionlog WHERE id IN (SELECT max(id) "
                "FROM transitionlog WHERE cycle_id IN (SELECT value FROM json_each(:ids)) "
                "AND hash IS NOT NULL GROUP BY cycle_id)"
            ).bindparams(ids=json.dumps(wanted))
        found: dict[int, str] = {c: h for c, h in conn.execute(query)}
        for cycle_id in wanted:
            known[cycle_id] = found.get(cycle_id, GENESIS)
    return known


def _known(session: Session) -> dict[int, str]:
    """This transaction's heads; a new transaction (or session) starts with none."""
    transaction = session.get_transaction()
    held = session.info.get(_HEADS_KEY)
    if held is None or held[0] is not transaction:
        held = session.info[_HEADS_KEY] = (transaction, {})
    known: dict[int, str] = held[1]
    return known
