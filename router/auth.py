"""API keys: a bearer token becomes a `Principal` (team, key id, the key's own limits).

Keys are never kept in clear: the config holds their SHA-256 (or names an environment variable
that is hashed at start-up), the store holds the SHA-256 of keys made by the admin API, and
lookup is by digest. Looking a digest up in a dict or a store reveals nothing useful about the
key itself, which is what a constant-time compare protects.

With a key directory (`KeyLookup`, the store behind a short cache), the store decides: a key it
knows is accepted only while active (a revoked or expired key gets a 401), and the in-memory
keys (the development key, and config keys while the store is unreachable) are the fallback.
Store lookups are async, so the edge (router/api/edge.py) resolves the key of every
`/v1/` request before the handler runs; the handler's synchronous `authenticate()` then finds
the answer in a context variable of the request's task.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import time
from collections.abc import Mapping
from contextvars import ContextVar, Token
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from router.errors import AuthenticationFailed, Overloaded, ProxyError
from router.store.base import StoreUnavailable

DEV_KEY_FILE = "dev-key"
DEV_TEAM = "dev"


@dataclass(frozen=True)
class Principal:
    team: str
    key_id: str
    models: tuple[str, ...] = ()  # allow-list; empty allows every model
    rpm: int | None = None
    tpm: int | None = None
    expires_at: float | None = None
    policy: str | None = None  # the team's routing policy for `auto` (None: the default)

    def allows(self, model: str) -> bool:
        return not self.models or model in self.models


class KeyLookup(Protocol):
    async def lookup(self, key_sha256: str) -> Principal | None:
        """The active key with this digest, None when unknown; raises AuthenticationFailed for
        a revoked or expired key and StoreUnavailable when the store cannot answer."""
        ...


Resolved = tuple[str, Principal | ProxyError] | None  # (the Authorization header, its outcome)
_RESOLVED: ContextVar[Resolved] = ContextVar("tokenwise_principal", default=None)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise AuthenticationFailed(
            "Missing API key: send it as 'Authorization: Bearer <key>'.", code="invalid_api_key"
        )
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise AuthenticationFailed(
            "Malformed Authorization header: expected 'Bearer <key>'.", code="invalid_api_key"
        )
    return token


def _unknown_key() -> AuthenticationFailed:
    return AuthenticationFailed(
        "Incorrect API key provided. Use a key issued by this Tokenwise deployment.",
        code="invalid_api_key",
    )


def _check_expiry(principal: Principal) -> Principal:
    if principal.expires_at is not None and time.time() >= principal.expires_at:
        raise AuthenticationFailed(
            f"The API key {principal.key_id} has expired; ask for a new one.",
            code="invalid_api_key",
        )
    return principal


class Authenticator:
    def __init__(self, keys: Mapping[str, Principal], lookup: KeyLookup | None = None) -> None:
        self._keys = dict(keys)
        self._lookup = lookup

    def authenticate(self, authorization: str | None) -> Principal:
        """The principal of a request (resolved by the edge when a directory is set)."""
        resolved = _RESOLVED.get()
        if resolved is not None and resolved[0] == authorization:
            if isinstance(resolved[1], ProxyError):
                raise resolved[1]
            return resolved[1]
        principal = self._keys.get(hash_key(bearer_token(authorization)))
        if principal is None:
            raise _unknown_key()
        return _check_expiry(principal)

    async def resolve(self, authorization: str | None) -> Principal:
        token = bearer_token(authorization)
        digest = hash_key(token)
        fallback = self._keys.get(digest)
        if self._lookup is None:
            if fallback is None:
                raise _unknown_key()
            return _check_expiry(fallback)
        try:
            found = await self._lookup.lookup(digest)
        except StoreUnavailable:
            if fallback is None:
                raise Overloaded(
                    "The key store cannot be reached to check this API key. Retry shortly.",
                    headers={"retry-after": "1"},
                ) from None
            found = fallback
        principal = found or fallback
        if principal is None:
            raise _unknown_key()
        return _check_expiry(principal)


async def resolve_for_request(auth: Authenticator, authorization: str) -> Token[Resolved]:
    """Resolve a request's key now (a store lookup is async) for `authenticate` to find in the
    request's task; undo with `forget_resolved` when the request ends."""
    outcome: Principal | ProxyError
    try:
        outcome = await auth.resolve(authorization)
    except ProxyError as exc:
        outcome = exc
    return _RESOLVED.set((authorization, outcome))


def forget_resolved(token: Token[Resolved]) -> None:
    _RESOLVED.reset(token)


def dev_key(home: Path, env: Mapping[str, str]) -> str:
    """The development key: `$TOKENWISE_DEV_KEY`, else the one kept under home, else a new one."""
    fixed = env.get("TOKENWISE_DEV_KEY")
    if fixed:
        return fixed
    path = home / DEV_KEY_FILE
    if path.is_file():
        kept = path.read_text(encoding="utf-8").strip()
        if kept:
            return kept
    key = "tw-dev-" + secrets.token_urlsafe(24)
    home.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(key + "\n")
    return key
