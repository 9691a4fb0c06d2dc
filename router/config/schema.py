"""The shape of `tokenwise.yaml`: every section, every key, nothing else.

Each model forbids unknown keys, so a typo fails start-up with the file and the key path named
(see `router.config.load`). Sections and their owners are listed in INTERFACES.md; a section
gains keys only from the issue that owns it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt

Effort = Literal["none", "minimal", "low", "medium", "high", "xhigh", "max"]
# The provider adapters (router/providers/registry.py; a test keeps the two lists equal).
Dialect = Literal[
    "openai_compat",
    "openai",
    "openrouter",
    "gemini",
    "deepseek",
    "vllm",
    "sglang",
    "ollama",
    "groq",
    "cerebras",
    "xai",
    "anthropic",
    "harmony",
]
# Where an upstream returns reasoning text (None in a model entry: the dialect's usual place).
OutputField = Literal["reasoning_content", "reasoning", "think_tags", "harmony", "none"]

SIMULATOR_URL = "builtin:simulator"
# The OpenAI APIs an upstream serves natively (chat completions always): see the README,
# "Responses and legacy completions".
Api = Literal["chat", "responses", "completions"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Timeouts(Strict):
    connect: StrictFloat = Field(5.0, gt=0, description="seconds to open a connection upstream")
    first_byte: StrictFloat = Field(120.0, gt=0, description="seconds until the upstream answers")
    idle: StrictFloat = Field(60.0, gt=0, description="seconds allowed between two stream chunks")
    total: StrictFloat = Field(600.0, gt=0, description="seconds for the whole upstream exchange")


class Server(Strict):
    host: str = Field("127.0.0.1", min_length=1, description="address to listen on")
    port: StrictInt = Field(8000, ge=1, le=65535)
    workers: StrictInt = Field(1, ge=1, le=256)
    body_limit_bytes: StrictInt = Field(16 * 1024 * 1024, ge=1024)
    body_timeout_seconds: StrictFloat = Field(
        30.0, gt=0, description="seconds a client has to send a request's whole body (408 past it)"
    )
    response_limit_bytes: StrictInt = Field(
        64 * 1024 * 1024, ge=1024, description="largest upstream answer (body or whole stream)"
    )
    timeouts: Timeouts = Timeouts()
    shutdown_grace_seconds: StrictFloat = Field(
        30.0, gt=0, description="on SIGTERM, how long in-flight requests may still finish"
    )
    metrics_token_env: str | None = None  # variable holding a bearer token /metrics requires


class Store(Strict):
    url: str | None = None  # None: sqlite under $TOKENWISE_HOME


UsageConvention = Literal["openai_chat", "deepseek", "openrouter", "gemini_openai", "ollama", "xai"]


class Provider(Strict):
    base_url: str
    api_key_env: str | None = None
    dialect: Dialect = "openai_compat"
    usage: UsageConvention = "openai_chat"  # how its `usage` object counts tokens
    strict: StrictBool = False  # a parameter the upstream cannot take is a 400, not a reported drop
    apis: tuple[Api, ...] | None = None  # default: all three for dialect openai, else [chat]
    ca_bundle: str | None = None  # PEM file of CAs to trust for this provider (default: system)


class Reasoning(Strict):
    efforts: tuple[Effort, ...] = ()
    can_disable: StrictBool = False
    budgets: dict[Effort, StrictInt] = {}  # effort -> thinking tokens, over the default table
    output_field: OutputField | None = None
    min_visible_tokens: StrictInt = Field(
        1024, ge=1, description="answer room kept beside a budget"
    )
    max_output_tokens: StrictInt | None = Field(None, ge=1, description="the model's output limit")
    adaptive_only: StrictBool = (
        False  # Anthropic models that take only adaptive thinking + an effort
    )
    # vLLM/SGLang switch models: the chat-template kwarg that turns thinking on and off
    # (Qwen3: enable_thinking, the default; DeepSeek-V3.1/V3.2, Granite: thinking)
    template_kwarg: Literal["enable_thinking", "thinking"] | None = None
    # with output_field think_tags: the chat template ends the prompt with `<think>`
    # (DeepSeek-R1-0528, Qwen3 Thinking-2507, DeepSeek-V3.1 thinking), so a thinking answer
    # starts inside the block and only `</think>` appears
    think_opened_by_template: StrictBool = False


class TokenPriors(Strict):
    """Completion tokens this model spends per category at medium effort (`default` for the
    rest): the visible answer, and the reasoning (scaled by effort)."""

    answer: dict[str, StrictInt] = {}
    reasoning: dict[str, StrictInt] = {}


class Model(Strict):
    provider: str
    upstream_id: str | None = None  # defaults to the catalog name
    context_window: StrictInt = Field(128_000, gt=0)
    description: str = ""
    reasoning: Reasoning | None = None
    simulated: StrictBool = False
    price: str | None = None  # key into the price table; defaults to the catalog name
    token_priors: TokenPriors | None = None
    apis: tuple[Api, ...] | None = None  # default: the provider's


TEAM_NAME_CHARS = r"[^\s:/]+"  # a team name is part of budget scopes and admin URLs
TEAM_NAME = rf"^{TEAM_NAME_CHARS}$"


class StaticKey(Strict):
    team: str = Field(pattern=TEAM_NAME)
    key_sha256: str | None = Field(None, pattern=r"^[0-9a-f]{64}$")
    key_env: str | None = None
    name: str | None = None  # the key id (default static-<index>); budgets name it key:<name>
    models: tuple[str, ...] = ()  # allow-list of catalog or virtual names; empty allows all
    rpm: StrictInt | None = Field(None, ge=1)
    tpm: StrictInt | None = Field(None, ge=1)
    expires_at: StrictFloat | None = Field(None, gt=0, description="epoch seconds")


class TeamSpec(Strict):
    name: str = Field(pattern=TEAM_NAME)
    policy: str | None = None  # the team's routing policy


class Auth(Strict):
    keys: tuple[StaticKey, ...] = ()
    teams: tuple[TeamSpec, ...] = ()  # upserted into the store at start-up, with keys' teams
    master_key_env: str | None = None  # variable holding the admin key (TOKENWISE_MASTER_KEY)
    cache_seconds: StrictFloat = Field(
        5.0, gt=0, le=60, description="a revoked key works this long"
    )
    cache_size: StrictInt = Field(10_000, ge=1)


class BudgetSpec(Strict):
    scope: str = Field(pattern=r"^(team|key):.+$")  # team:<name> or key:<key name>
    limit_usd: Decimal = Field(ge=0)
    window: str = "month"  # day, week, month, total or rolling:<seconds>
    tz: str = "UTC"
    hard: StrictBool = True
    soft_threshold: Decimal | None = Field(None, gt=0, le=1)
    soft_policy: str | None = None


class OutputTokens(Strict):
    plain: StrictInt = Field(ge=1)
    reasoning: StrictInt = Field(ge=1)


class Budgets(Strict):
    limits: tuple[BudgetSpec, ...] = ()  # upserted into the store at start-up
    on_store_error: Literal["fail_closed", "fail_open"] = "fail_closed"
    lease_seconds: StrictFloat | None = Field(None, gt=0)  # default: server.timeouts.total + 60
    expire_every_seconds: StrictFloat = Field(5.0, gt=0)
    store_timeout_seconds: StrictFloat = Field(5.0, gt=0)
    store_concurrency: StrictInt = Field(64, ge=1, description="budget calls to the store at once")
    wait_in_flight_seconds: StrictFloat = Field(
        5.0, ge=0, description="wait for in-flight reservations before a budget refusal"
    )
    refresh_seconds: StrictFloat = Field(2.0, gt=0, description="budget records and soft views")
    expected_output_tokens: OutputTokens = OutputTokens(plain=1024, reasoning=4096)
    minimal_output_tokens: OutputTokens = OutputTokens(plain=16, reasoning=256)
    cap_output: StrictBool = True  # under a hard budget, always bound the output by the reservation
    prompt_margin: Decimal = Field(Decimal("0.25"), ge=0, le=10)
    soft_effort_cap: Effort | None = "low"
    webhook_url: str | None = None


class RateLimit(Strict):
    rpm: StrictInt | None = Field(None, ge=1)
    tpm: StrictInt | None = Field(None, ge=1)


class RateLimits(Strict):
    teams: dict[str, RateLimit] = {}
    default_team: RateLimit = RateLimit()
    default_key: RateLimit = RateLimit()


class Metering(Strict):
    pricing_file: str | None = None  # default: $TOKENWISE_PRICING, else the shipped pricing.json


class Routing(Strict):
    default_model: str | None = None  # where virtual models go when no policy serves them
    default_policy: str = "default"
    policies_dir: str | None = None  # default: $TOKENWISE_POLICIES, else the shipped policies
    roles: dict[str, str] = {}  # role named in policies -> catalog model
    session_pinning: StrictBool = True
    session_ttl_s: StrictFloat = Field(3600.0, gt=0)
    session_capacity: StrictInt = Field(100_000, ge=0)


class Responses(Strict):
    """`/v1/responses` on upstreams that speak only chat completions (the proxy translates)."""

    conversations: StrictBool = False  # keep conversations for previous_response_id in the store
    ttl_seconds: StrictFloat = Field(86_400.0, gt=0, description="how long a response id is kept")


class Retries(Strict):
    """Retries of one upstream before its first byte reaches the client."""

    attempts: StrictInt = Field(3, ge=1, le=10, description="tries per upstream (1: no retry)")
    base_ms: StrictFloat = Field(100.0, ge=0, description="first backoff; doubles each retry")
    max_ms: StrictFloat = Field(5000.0, ge=0, description="longest backoff between two tries")
    deadline_s: StrictFloat | None = Field(
        None, gt=0, description="all tries and fallbacks of a request (default: first_byte)"
    )
    max_retry_after_s: StrictFloat = Field(
        10.0, ge=0, description="a longer retry-after moves on to the next fallback instead"
    )


class Breaker(Strict):
    """Per upstream (catalog model): open on errors, probe after `open_s`."""

    window_s: StrictFloat = Field(30.0, gt=0, description="errors are counted over this window")
    min_requests: StrictInt = Field(10, ge=1, description="fewer tries in the window never open it")
    error_rate: StrictFloat = Field(0.5, gt=0, le=1, description="failed share that opens it")
    open_s: StrictFloat = Field(15.0, gt=0, description="how long it stays open before a probe")
    probes: StrictInt = Field(1, ge=1, description="requests let through at once while half-open")


class Reliability(Strict):
    retries: Retries = Retries()
    breaker: Breaker = Breaker()
    max_in_flight: StrictInt | None = Field(None, ge=1, description="beyond it: 503 overloaded")
    shed_retry_after_s: StrictInt = Field(1, ge=1, description="retry-after sent when shedding")
    fallbacks: dict[str, tuple[str, ...]] = {}  # catalog model -> models to try next, in order
    context_fallback: StrictBool = True  # a prompt too long moves to a model with a larger window


class Config(Strict):
    server: Server = Server()
    store: Store = Store()
    providers: dict[str, Provider] = {}
    models: dict[str, Model] = {}
    auth: Auth = Auth()
    routing: Routing = Routing()
    metering: Metering = Metering()
    budgets: Budgets = Budgets()
    rate_limits: RateLimits = RateLimits()
    responses: Responses = Responses()
    reliability: Reliability = Reliability()
