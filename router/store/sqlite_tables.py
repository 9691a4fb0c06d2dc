"""The SQLite schema, and the `accounting.Repo` over one connection (synchronous).

Records are JSON (see `codec.py`) next to the columns that are looked up or ordered by. Budget
counters are integer micro-dollars. The caller wraps each use in a transaction.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence

from router.store import codec
from router.store.accounting import Held, Reservation
from router.store.base import BudgetRecord
from router.store.rules import RATE_WINDOW

SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS teams (name TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS keys (
    key_id TEXT PRIMARY KEY,
    team TEXT NOT NULL,
    key_sha256 TEXT NOT NULL UNIQUE,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS keys_team ON keys (team);
CREATE TABLE IF NOT EXISTS budgets (scope TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS counters (
    scope TEXT NOT NULL,
    period TEXT NOT NULL,
    settled INTEGER NOT NULL,
    in_flight INTEGER NOT NULL,
    retain_until REAL NOT NULL,
    PRIMARY KEY (scope, period)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rates (
    scope TEXT NOT NULL,
    minute INTEGER NOT NULL,
    requests INTEGER NOT NULL,
    tokens INTEGER NOT NULL,
    PRIMARY KEY (scope, minute)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS reservations (
    request_id TEXT PRIMARY KEY,
    lease_end REAL NOT NULL,
    entries TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS reservations_lease ON reservations (lease_end);
CREATE TABLE IF NOT EXISTS ledger (
    request_id TEXT PRIMARY KEY,
    ts REAL NOT NULL,
    team TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ledger_ts ON ledger (ts, request_id);
CREATE INDEX IF NOT EXISTS ledger_team_ts ON ledger (team, ts, request_id);
CREATE TABLE IF NOT EXISTS state (
    namespace TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (namespace, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS state_expiry (namespace TEXT PRIMARY KEY, expires_at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS state_expiry_at ON state_expiry (expires_at);
"""


def create_schema(conn: sqlite3.Connection, path: str) -> None:
    """Create the tables (inside the caller's write transaction) or check their version."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise RuntimeError(
            f"{path} was written by a newer Tokenwise (schema {version}, this one knows "
            f"{SCHEMA_VERSION}); upgrade Tokenwise or point store.url elsewhere"
        )
    for statement in SCHEMA.split(";"):
        if statement.strip():
            conn.execute(statement)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def read_state(conn: sqlite3.Connection, namespace: str, now: float) -> dict[str, str]:
    """A namespace's values; none once it expired (purged or not yet)."""
    rows = conn.execute(
        "SELECT key, value FROM state WHERE namespace = ? AND NOT EXISTS"
        " (SELECT 1 FROM state_expiry WHERE namespace = ? AND expires_at <= ?)",
        (namespace, namespace, now),
    )
    return dict(rows.fetchall())


def write_state(
    conn: sqlite3.Connection,
    namespace: str,
    values: dict[str, str],
    ttl_seconds: float | None,
    now: float,
) -> None:
    """`Store.put_state` in the caller's write transaction, after purging what expired."""
    purge_state(conn, now)
    if ttl_seconds is not None and ttl_seconds <= 0:
        conn.execute("DELETE FROM state WHERE namespace = ?", (namespace,))
        conn.execute("DELETE FROM state_expiry WHERE namespace = ?", (namespace,))
        return
    conn.executemany(
        "INSERT OR REPLACE INTO state VALUES (?, ?, ?)",
        [(namespace, k, v) for k, v in values.items()],
    )
    if ttl_seconds is not None:
        conn.execute(
            "INSERT OR REPLACE INTO state_expiry VALUES (?, ?)", (namespace, now + ttl_seconds)
        )


def purge_state(conn: sqlite3.Connection, now: float) -> None:
    """Delete the namespaces whose expiry has passed (found through the expiry index)."""
    conn.execute(
        "DELETE FROM state WHERE namespace IN"
        " (SELECT namespace FROM state_expiry WHERE expires_at <= ?)",
        (now,),
    )
    conn.execute("DELETE FROM state_expiry WHERE expires_at <= ?", (now,))


_DECODED: dict[str, BudgetRecord] = {}  # a budget row's text -> its record (records are frozen)
_DECODED_LIMIT = 4096


def _budget(data: str) -> BudgetRecord:
    """A budget row's record; a row read before is not decoded again (every reservation reads
    its budgets, and they rarely change)."""
    record = _DECODED.get(data)
    if record is None:
        record = codec.loads(BudgetRecord, data)
        if len(_DECODED) >= _DECODED_LIMIT:
            _DECODED.clear()
        _DECODED[data] = record
    return record


def _reservation(request_id: str, lease_end: float, entries: str) -> Reservation:
    held = tuple(Held(s, p, m, r) for s, p, m, r in json.loads(entries))
    return Reservation(request_id, lease_end, held)


class SQLiteCounters:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def budgets(self, scopes: Sequence[str]) -> dict[str, BudgetRecord]:
        marks = ",".join("?" * len(scopes))
        rows = self.conn.execute(
            f"SELECT scope, data FROM budgets WHERE scope IN ({marks})", list(scopes)
        )
        return {scope: _budget(data) for scope, data in rows}

    def counters(self, scope: str, periods: Sequence[str]) -> tuple[int, int]:
        marks = ",".join("?" * len(periods))
        row = self.conn.execute(
            "SELECT COALESCE(SUM(settled), 0), COALESCE(SUM(in_flight), 0) FROM counters"
            f" WHERE scope = ? AND period IN ({marks})",
            [scope, *periods],
        ).fetchone()
        return int(row[0]), int(row[1])

    def add_counter(
        self, scope: str, period: str, settled: int, in_flight: int, retain: float
    ) -> None:
        self.conn.execute(
            "INSERT INTO counters VALUES (?, ?, ?, ?, ?) ON CONFLICT (scope, period) DO UPDATE"
            " SET settled = settled + excluded.settled, in_flight = in_flight + excluded.in_flight",
            (scope, period, settled, in_flight, retain),
        )

    def rate(self, scope: str, minute: int) -> tuple[int, int]:
        row = self.conn.execute(
            "SELECT requests, tokens FROM rates WHERE scope = ? AND minute = ?", (scope, minute)
        ).fetchone()
        return (0, 0) if row is None else (int(row[0]), int(row[1]))

    def add_rate(self, scope: str, minute: int, tokens: int) -> None:
        self.conn.execute(
            "INSERT INTO rates VALUES (?, ?, 1, ?) ON CONFLICT (scope, minute) DO UPDATE"
            " SET requests = requests + 1, tokens = tokens + excluded.tokens",
            (scope, minute, tokens),
        )

    def reservation(self, request_id: str) -> Reservation | None:
        row = self.conn.execute(
            "SELECT lease_end, entries FROM reservations WHERE request_id = ?", (request_id,)
        ).fetchone()
        return None if row is None else _reservation(request_id, row[0], row[1])

    def put_reservation(self, reservation: Reservation) -> None:
        entries = [[h.scope, h.period, h.micros, h.retain] for h in reservation.entries]
        self.conn.execute(
            "INSERT INTO reservations VALUES (?, ?, ?)",
            (reservation.request_id, reservation.lease_end, json.dumps(entries)),
        )

    def drop_reservation(self, request_id: str) -> None:
        self.conn.execute("DELETE FROM reservations WHERE request_id = ?", (request_id,))

    def ended_leases(self, now: float) -> list[Reservation]:
        rows = self.conn.execute(
            "SELECT request_id, lease_end, entries FROM reservations WHERE lease_end <= ?", (now,)
        )
        return [_reservation(*row) for row in rows]

    def prune(self, now: float) -> None:
        self.conn.execute("DELETE FROM counters WHERE retain_until < ?", (now,))
        self.conn.execute("DELETE FROM rates WHERE minute < ?", (now - 2 * RATE_WINDOW,))
