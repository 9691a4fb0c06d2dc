"""API keys: a bearer token becomes a `Principal` (team, key id).

Keys are never kept in clear: the config holds their SHA-256 (or names an environment variable
that is hashed at start-up), and lookup is by digest. Looking a digest up in a dict reveals
nothing useful about the key itself, which is what a constant-time compare protects.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from router.errors import AuthenticationFailed

DEV_KEY_FILE = "dev-key"
DEV_TEAM = "dev"


@dataclass(frozen=True)
class Principal:
    team: str
    key_id: str


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


class Authenticator:
    def __init__(self, keys: Mapping[str, Principal]) -> None:
        self._keys = dict(keys)

    def authenticate(self, authorization: str | None) -> Principal:
        token = bearer_token(authorization)
        principal = self._keys.get(hash_key(token))
        if principal is None:
            raise AuthenticationFailed(
                "Incorrect API key provided. Use a key issued by this Tokenwise deployment.",
                code="invalid_api_key",
            )
        return principal


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
