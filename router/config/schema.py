"""The shape of `tokenwise.yaml`: every section, every key, nothing else.

Each model forbids unknown keys, so a typo fails start-up with the file and the key path named
(see `router.config.load`). Sections and their owners are listed in INTERFACES.md; a section
gains keys only from the issue that owns it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Effort = Literal["none", "minimal", "low", "medium", "high", "xhigh", "max"]
Dialect = Literal["openai"]

SIMULATOR_URL = "builtin:simulator"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Timeouts(Strict):
    connect: float = Field(5.0, gt=0, description="seconds to open a connection upstream")
    first_byte: float = Field(120.0, gt=0, description="seconds until the upstream answers")
    idle: float = Field(60.0, gt=0, description="seconds allowed between two stream chunks")
    total: float = Field(600.0, gt=0, description="seconds for the whole upstream exchange")


class Server(Strict):
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    workers: int = Field(1, ge=1, le=256)
    body_limit_bytes: int = Field(16 * 1024 * 1024, ge=1024)
    timeouts: Timeouts = Timeouts()


class Store(Strict):
    url: str | None = None  # None: sqlite under $TOKENWISE_HOME


UsageConvention = Literal["openai_chat", "deepseek", "openrouter", "gemini_openai", "ollama", "xai"]


class Provider(Strict):
    base_url: str
    api_key_env: str | None = None
    dialect: Dialect = "openai"
    usage: UsageConvention = "openai_chat"  # how its `usage` object counts tokens


class Reasoning(Strict):
    efforts: tuple[Effort, ...] = ()
    can_disable: bool = False


class Model(Strict):
    provider: str
    upstream_id: str | None = None  # defaults to the catalog name
    context_window: int = Field(128_000, gt=0)
    description: str = ""
    reasoning: Reasoning | None = None
    simulated: bool = False
    price: str | None = None  # key into the price table; defaults to the catalog name


class StaticKey(Strict):
    team: str = Field(min_length=1)
    key_sha256: str | None = Field(None, pattern=r"^[0-9a-f]{64}$")
    key_env: str | None = None
    name: str | None = None


class Auth(Strict):
    keys: tuple[StaticKey, ...] = ()


class Metering(Strict):
    pricing_file: str | None = None  # default: $TOKENWISE_PRICING, else the shipped pricing.json


class Routing(Strict):
    default_model: str | None = None  # where virtual models go until a policy decides


class Config(Strict):
    server: Server = Server()
    store: Store = Store()
    providers: dict[str, Provider] = {}
    models: dict[str, Model] = {}
    auth: Auth = Auth()
    routing: Routing = Routing()
    metering: Metering = Metering()
