"""`open_store`: a store URL (config `store.url`) to an opened store.

memory://                  in this process only (tests)
sqlite:///abs/path.db      a SQLite file at an absolute path
sqlite://relative.db       a SQLite file under $TOKENWISE_HOME (`home`)
redis://host:port/db       Redis (also rediss:// for TLS, and user:password@ in the URL)
None                       sqlite under home: <home>/tokenwise.db
"""

from __future__ import annotations

from pathlib import Path

from router.store.base import Store
from router.store.memory import MemoryStore
from router.store.redis import RedisStore
from router.store.sqlite import SQLiteStore

DEFAULT_FILE = "tokenwise.db"


def _accepted(home: Path) -> str:
    return (
        "memory://, sqlite:///absolute/path.db, sqlite://relative.db "
        f"(under {home}), or redis://host:port/db"
    )


def sqlite_path(url: str, home: Path) -> Path:
    rest = url.removeprefix("sqlite://")
    if not rest or rest == "/" or rest.endswith("/"):
        raise ValueError(f"store URL {url!r} names no file: use {_accepted(home)}")
    if rest.startswith("/"):  # sqlite:////abs (SQLAlchemy's spelling) is sqlite:///abs too
        return Path("/" + rest.lstrip("/"))
    return home / rest


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
    raise ValueError(f"unsupported store URL {url!r}: use {_accepted(home)}")
