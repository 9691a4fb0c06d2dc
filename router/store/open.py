"""`open_store`: a store URL (config `store.url`) to an opened store.

memory://                  in this process only (tests)
sqlite:///abs/path.db      a SQLite file at an absolute path
sqlite://relative.db       a SQLite file under $TOKENWISE_HOME (`home`)
redis://host:port/db       Redis (also rediss:// for TLS, and user:password@ in the URL)
redis+sentinel://[:password@]host:port[,host:port...]/service[/db]
                           the master Redis Sentinel names for `service` (sentinels on
                           26379 unless a port is given); a failover is followed by the
                           client, and scripts lost with the old master are loaded again
None                       sqlite under home: <home>/tokenwise.db
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from redis.asyncio import Redis
from redis.asyncio.sentinel import Sentinel

from router.store.base import Store, StoreUnavailable
from router.store.memory import MemoryStore
from router.store.redis import RedisStore
from router.store.sqlite import SQLiteStore

DEFAULT_FILE = "tokenwise.db"
SENTINEL = "redis+sentinel://"
SENTINEL_PORT = 26379


def _accepted(home: Path) -> str:
    return (
        "memory://, sqlite:///absolute/path.db, sqlite://relative.db "
        f"(under {home}), redis://host:port/db or redis+sentinel://host:port/service/db"
    )


def sqlite_path(url: str, home: Path) -> Path:
    rest = url.removeprefix("sqlite://")
    if not rest or rest == "/" or rest.endswith("/"):
        raise ValueError(f"store URL {url!r} names no file: use {_accepted(home)}")
    if rest.startswith("/"):  # sqlite:////abs (SQLAlchemy's spelling) is sqlite:///abs too
        return Path("/" + rest.lstrip("/"))
    return home / rest


def sqlite_file(url: str | None, home: Path) -> Path | None:
    """The file of a SQLite store URL (None: the default store under `home`); None for any
    other kind of store."""
    if url is None:
        return home / DEFAULT_FILE
    return sqlite_path(url, home) if url.startswith("sqlite://") else None


async def open_store(url: str | None, home: Path) -> Store:
    """Open the store a URL names: files are created and connections made here, never at import."""
    if url is None:
        return await SQLiteStore(home / DEFAULT_FILE).open()
    if url == "memory://":
        return await MemoryStore().open()
    if url.startswith("sqlite://"):
        return await SQLiteStore(sqlite_path(url, home)).open()
    if url.startswith(("redis://", "rediss://")) and len(url.split("://", 1)[1]) > 0:
        return await RedisStore(url).open()
    if url.startswith(SENTINEL):
        return await RedisStore(client=sentinel_master(url, home), owned=True).open()
    raise ValueError(f"unsupported store URL {url!r}: use {_accepted(home)}")


def sentinel_master(url: str, home: Path) -> Redis:
    """A client of the master that the sentinels in a `redis+sentinel://` URL name."""
    rest = url.removeprefix(SENTINEL)
    netloc, _, path = rest.partition("/")
    password = None
    if "@" in netloc:
        auth, netloc = netloc.rsplit("@", 1)
        password = auth.split(":", 1)[-1] or None
    sentinels = []
    for item in filter(None, netloc.split(",")):
        host, colon, port = item.rpartition(":")
        if not colon:
            host, port = item, str(SENTINEL_PORT)
        if not host or not port.isdigit():
            raise ValueError(f"store URL {url!r}: {item!r} is not host:port")
        sentinels.append((host, int(port)))
    parts = [part for part in path.split("/") if part]
    bad_db = len(parts) == 2 and not parts[1].isdigit()
    if not sentinels or not parts or len(parts) > 2 or bad_db:
        raise ValueError(f"store URL {url!r}: use {_accepted(home)}")
    db = int(parts[1]) if len(parts) == 2 else 0
    master: Redis = Sentinel(sentinels, socket_timeout=5.0).master_for(
        parts[0], db=db, password=password, decode_responses=True
    )
    return master


# What opening or reading a store raises when it cannot be used (a path, a file, a server).
STORE_ERRORS = (StoreUnavailable, OSError, sqlite3.Error)


def store_problem(exc: Exception) -> str:
    """What the command line says of an error: the store's own kinds named as such."""
    if isinstance(exc, OSError):
        where = f" {exc.filename}" if exc.filename else ""
        return f"cannot use the store{where}: {exc.strerror or exc}"
    if isinstance(exc, sqlite3.Error):
        return f"the SQLite store cannot be read: {exc}"
    return str(exc)
