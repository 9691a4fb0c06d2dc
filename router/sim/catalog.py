"""The simulated models: what each one imitates, how many tokens it spends, how it answers.

Token profiles are baked from the LRM Token Economy data (`shared/data/token-economy/`,
`results_runs.csv`, the 19 in-study prompts, every run of the named model). For each category
(knowledge, math, logic = the study's `logic_puzzle`) a profile holds the mean and population
standard deviation over runs of:
    answer    = completion_tokens - reasoning_tokens_est   (the visible answer)
    reasoning = reasoning_tokens_est                        (the study's thinking estimate)
Figures are "at medium effort". Rows run with `reasoning_effort: high` (gpt-oss) are divided by
EFFORT_SCALE["high"]; rows run without an effort setting are taken as the model's default,
i.e. medium. The data has no non-reasoning model, so the non-reasoning sims take the visible
answer of the closest model in the data and no reasoning. `other` (chat, writing, ...) has no
rows: it reuses the knowledge figures, the short-question profile.

Effort multiplies reasoning tokens (EFFORT_SCALE): low 0.35x, medium 1x, high 2.2x. These
factors are chosen, not measured (the study ran every model at one setting); they give the
clear low < medium < high ordering that effort-conformance tests look for.
"""

from __future__ import annotations

from dataclasses import dataclass

from router.sim.faults import NO_FAULTS, Faults
from router.sim.fields import FieldError

DIALECTS = (
    "plain",
    "reasoning_field",
    "reasoning_content",
    "think_tags",
    "think_opened",
    "harmony_leak",
    "usage_no_details",
)
APIS = ("chat", "responses", "completions")
"""The endpoints a simulated model serves: chat completions always; the Responses API and legacy
text completions natively only where its entry says (a chat-only host answers them 404)."""
REASONING_DIALECTS = (
    "reasoning_field",
    "reasoning_content",
    "think_tags",
    "think_opened",  # the template opened `<think>` in the prompt: only `</think>` appears
    "harmony_leak",
)
CATEGORIES = ("knowledge", "math", "logic", "other")
EFFORTS = ("minimal", "low", "medium", "high", "xhigh", "max")
EFFORT_SCALE = {
    "minimal": 0.15,
    "low": 0.35,
    "medium": 1.0,
    "high": 2.2,
    "xhigh": 3.0,
    "max": 4.0,
}


@dataclass(frozen=True)
class TokenProfile:
    """Mean and spread (standard deviation) of tokens for one category, at medium effort."""

    answer_mean: int
    answer_spread: int
    reasoning_mean: int = 0
    reasoning_spread: int = 0

    @property
    def completion_mean(self) -> int:
        return self.answer_mean + self.reasoning_mean


@dataclass(frozen=True)
class CategoryProfiles:
    knowledge: TokenProfile
    math: TokenProfile
    logic: TokenProfile
    other: TokenProfile

    def for_category(self, category: str) -> TokenProfile:
        profile: TokenProfile = getattr(self, category)
        return profile


@dataclass(frozen=True)
class SimModel:
    name: str
    dialect: str
    reasoning: bool
    efforts: tuple[str, ...]
    ignores_effort: bool
    context_window: int
    imitates: str
    description: str
    profiles: CategoryProfiles
    can_disable: bool = False
    ttft_ms: int = 30
    inter_chunk_ms: int = 5
    tokens_per_chunk: int = 8
    fault: Faults = NO_FAULTS
    apis: tuple[str, ...] = ("chat",)

    def __post_init__(self) -> None:
        if "chat" not in self.apis or any(api not in APIS for api in self.apis):
            raise FieldError("apis", f"must include chat and be among {', '.join(APIS)}")
        if self.dialect not in DIALECTS:
            raise FieldError("dialect", f"must be one of {', '.join(DIALECTS)}")
        if self.reasoning != (self.dialect in REASONING_DIALECTS):
            raise FieldError(
                "reasoning",
                f"reasoning: true needs a reasoning dialect ({', '.join(REASONING_DIALECTS)}),"
                " and those dialects need reasoning: true",
            )
        if self.reasoning and not self.efforts:
            raise FieldError("efforts", "a reasoning model declares at least one effort")
        if not self.reasoning and (self.efforts or self.can_disable or self.ignores_effort):
            raise FieldError("efforts", "a non-reasoning model has no efforts")
        for effort in self.efforts:
            if effort not in EFFORTS:
                raise FieldError("efforts", f"must be among {', '.join(EFFORTS)}")
        if self.tokens_per_chunk < 1:
            raise FieldError("tokens_per_chunk", "must be >= 1")
        if self.context_window < 1:
            raise FieldError("context_window", "must be >= 1")

    @property
    def default_effort(self) -> str | None:
        """The effort used when a request names none (medium when declared)."""
        if not self.efforts:
            return None
        return "medium" if "medium" in self.efforts else self.efforts[len(self.efforts) // 2]


def _profiles(knowledge: TokenProfile, math: TokenProfile, logic: TokenProfile) -> CategoryProfiles:
    return CategoryProfiles(knowledge=knowledge, math=math, logic=logic, other=knowledge)


_LMH = ("low", "medium", "high")


def default_catalog() -> tuple[SimModel, ...]:
    """The embedded catalog: one model per dialect, a small and a large reasoner."""
    return (
        SimModel(
            name="sim-small",
            dialect="plain",
            reasoning=False,
            efforts=(),
            ignores_effort=False,
            context_window=128_000,
            imitates="gpt-4.1-nano",
            description="Small fast non-reasoning model (OpenAI wire format).",
            # o4-mini-high-long visible answers (no non-reasoning model in the data),
            # 25 / 30 / 40 runs.
            profiles=_profiles(TokenProfile(17, 9), TokenProfile(168, 96), TokenProfile(144, 65)),
            ttft_ms=20,
            apis=APIS,
        ),
        SimModel(
            name="sim-mini-reasoner",
            dialect="reasoning_content",
            reasoning=True,
            efforts=_LMH,
            ignores_effort=False,
            can_disable=True,
            context_window=131_072,
            imitates="qwen3-30b-a3b",
            description="Small reasoning model; reasoning in message.reasoning_content.",
            # qwen3-30b-a3b-think, no effort set (default = medium), 25 / 30 / 40 runs.
            profiles=_profiles(
                TokenProfile(59, 42, 289, 105),
                TokenProfile(753, 152, 6075, 2969),
                TokenProfile(480, 244, 4970, 4284),
            ),
            ttft_ms=25,
            tokens_per_chunk=16,
        ),
        SimModel(
            name="sim-large-reasoner",
            dialect="reasoning_field",
            reasoning=True,
            efforts=_LMH,
            ignores_effort=False,
            context_window=163_840,
            imitates="deepseek-r1-0528",
            description="Large reasoning model; reasoning in message.reasoning (OpenRouter).",
            # deepseek-r1-0528, no effort set (default = medium), 25 / 30 / 37 runs.
            profiles=_profiles(
                TokenProfile(94, 71, 313, 132),
                TokenProfile(563, 140, 7259, 3655),
                TokenProfile(426, 123, 5538, 4188),
            ),
            ttft_ms=40,
            tokens_per_chunk=16,
            apis=("chat", "responses"),
        ),
        SimModel(
            name="sim-think",
            dialect="think_tags",
            reasoning=True,
            efforts=_LMH,
            ignores_effort=False,
            can_disable=True,
            context_window=131_072,
            imitates="qwen3-235b-a22b",
            description="Raw Qwen3/DeepSeek-R1 host; reasoning inline as <think>...</think>.",
            # qwen3-235b-a22b-think, no effort set (default = medium), 25 / 30 / 40 runs.
            profiles=_profiles(
                TokenProfile(66, 49, 337, 91),
                TokenProfile(784, 162, 6967, 3684),
                TokenProfile(594, 302, 6151, 5599),
            ),
            ttft_ms=35,
            tokens_per_chunk=16,
        ),
        SimModel(
            name="sim-harmony",
            dialect="harmony_leak",
            reasoning=True,
            efforts=_LMH,
            ignores_effort=False,
            context_window=131_072,
            imitates="gpt-oss-120b",
            description="Misconfigured gpt-oss host; raw Harmony markup leaks into content.",
            # gpt-oss-120b, run at effort high: reasoning divided by 2.2; 25 / 30 / 40 runs.
            profiles=_profiles(
                TokenProfile(17, 20, 27, 9),
                TokenProfile(358, 119, 505, 314),
                TokenProfile(248, 124, 505, 737),
            ),
            ttft_ms=30,
            tokens_per_chunk=16,
        ),
        SimModel(
            name="sim-plain-usage",
            dialect="usage_no_details",
            reasoning=False,
            efforts=(),
            ignores_effort=False,
            context_window=131_072,
            imitates="llama3.1:8b",
            description="Local non-reasoning model; usage without *_tokens_details (Ollama).",
            # llama-3.3-nemotron-super-49b-v1 visible answers (closest Llama in the data),
            # 25 / 30 / 40 runs.
            profiles=_profiles(TokenProfile(44, 33), TokenProfile(444, 62), TokenProfile(371, 610)),
            ttft_ms=20,
            apis=("chat", "completions"),
        ),
        SimModel(
            name="sim-effort-deaf",
            dialect="reasoning_content",
            reasoning=True,
            efforts=_LMH,
            ignores_effort=True,
            context_window=131_072,
            imitates="gpt-oss-20b",
            description="Host that declares low/medium/high but always runs at medium.",
            # gpt-oss-20b, run at effort high: reasoning divided by 2.2; 25 / 30 / 40 runs.
            profiles=_profiles(
                TokenProfile(5, 2, 23, 10),
                TokenProfile(428, 172, 390, 253),
                TokenProfile(139, 81, 344, 454),
            ),
            ttft_ms=30,
            tokens_per_chunk=16,
        ),
    )
