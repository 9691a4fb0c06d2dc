"""`model="auto"` end to end: the classifier and the default policy pick model and effort."""

from __future__ import annotations

from typing import Any

import httpx
import openai
import pytest

from router.localserver import ServerThread

TRIVIAL = "What is the capital of Australia?"
HARD_MATH = (
    "Prove that for every integer n >= 1 the number 7^n - 1 is divisible by 6, and find all "
    "primes p such that p^2 + 2 is also prime. Show each step of the argument rigorously."
)


def route_of(raw: Any) -> dict[str, str]:
    """The x-tokenwise-route header of a raw SDK response, as its key=value pairs."""
    header: str = raw.headers["x-tokenwise-route"]
    return dict(item.split("=", 1) for item in header.split("; "))


def sim_log(proxy: ServerThread) -> list[dict[str, object]]:
    services = proxy.server.config.app.state.services
    base = str(services.targets["sim-small"].base_url).removesuffix("/v1")
    entries: list[dict[str, object]] = httpx.get(f"{base}/sim/log").json()["data"]
    return entries


def test_trivial_question_goes_to_the_small_model_without_reasoning(
    client: openai.OpenAI, proxy: ServerThread
) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model="auto", messages=[{"role": "user", "content": TRIVIAL}]
    )
    route = route_of(raw)
    assert route["model"] == "sim-small" and route["effort"] == "none"
    assert route["tier"] in ("trivial", "simple") and route["category"] == "knowledge"
    assert raw.headers["x-tokenwise-model"] == "sim-small"
    completion = raw.parse()
    assert completion.usage is not None
    details = completion.usage.completion_tokens_details
    assert details is None or not details.reasoning_tokens


def test_hard_math_goes_to_a_reasoning_model_at_high_effort(
    client: openai.OpenAI, proxy: ServerThread
) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model="auto",
        messages=[{"role": "user", "content": HARD_MATH}],
        extra_body={"sim": {"ttft_ms": 0, "inter_chunk_ms": 0}},
    )
    route = route_of(raw)
    assert route["category"] == "math" and route["tier"] == "hard"
    assert route["effort"] == "high"
    assert route["model"] in ("sim-mini-reasoner", "sim-large-reasoner")
    request_id = raw.headers["x-request-id"]
    assert request_id
    # The simulator saw the effort the router chose.
    last = [e for e in sim_log(proxy) if e.get("model") == route["model"]][-1]
    assert last["effort"] == "high"


def test_a_trivial_question_asking_for_reasoning_gets_a_model_that_reasons(
    client: openai.OpenAI, proxy: ServerThread
) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model="auto",
        messages=[{"role": "user", "content": TRIVIAL}],
        reasoning_effort="high",
        extra_body={"sim": {"ttft_ms": 0, "inter_chunk_ms": 0}},
    )
    route = route_of(raw)
    assert route["model"] in ("sim-mini-reasoner", "sim-large-reasoner")
    assert "reasoning asked" in route["reason"]
    assert raw.headers["x-tokenwise-effort"].startswith("requested=high; sent=high")
    completion = raw.parse()
    assert completion.usage is not None and completion.usage.completion_tokens_details
    assert completion.usage.completion_tokens_details.reasoning_tokens
    last = [e for e in sim_log(proxy) if e.get("model") == route["model"]][-1]
    assert last["effort"] == "high"


def test_learned_token_figures_move_after_traffic(
    client: openai.OpenAI, proxy: ServerThread
) -> None:
    router = proxy.server.config.app.state.services.router
    key = ("sim-small", "knowledge", "none")
    before = router.priors.observations(*key)
    for _ in range(3):
        client.chat.completions.create(
            model="auto",
            messages=[{"role": "user", "content": TRIVIAL}],
            extra_body={"sim": {"completion_tokens": 5000}},
        )
    assert router.priors.observations(*key) == before + 3
    assert router.priors.expected(*key) > router.priors.catalog["sim-small"].expected(
        "knowledge", "none"
    )
    exported = httpx.get(f"http://127.0.0.1:{proxy.port}/metrics", timeout=10).text
    wanted = (
        'tokenwise_expected_completion_tokens{category="knowledge",effort="none",'
        'model="sim-small"} '
    )
    [line] = [x for x in exported.splitlines() if x.startswith(wanted)]
    assert float(line.removeprefix(wanted)) == pytest.approx(router.priors.expected(*key))


def test_route_header_forces_a_tier(client: openai.OpenAI) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model="auto",
        messages=[{"role": "user", "content": TRIVIAL}],
        extra_headers={"x-tokenwise-route": "tier=hard"},
        extra_body={"sim": {"ttft_ms": 0, "inter_chunk_ms": 0}},
    )
    assert "tier=hard" in raw.headers["x-tokenwise-route"]
    assert raw.headers["x-tokenwise-model"] != "sim-small"


def test_route_header_forces_a_policy_and_says_so(client: openai.OpenAI) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model="auto",
        messages=[{"role": "user", "content": HARD_MATH}],
        extra_headers={"x-tokenwise-route": "policy=economy"},
    )
    assert route_of(raw)["reason"].endswith("policy forced to economy"), route_of(raw)


def test_bad_route_header_is_a_400(client: openai.OpenAI) -> None:
    try:
        client.chat.completions.create(
            model="auto",
            messages=[{"role": "user", "content": TRIVIAL}],
            extra_headers={"x-tokenwise-route": "tier=extreme"},
        )
    except openai.BadRequestError as exc:
        assert exc.code == "invalid_route" and "x-tokenwise-route" in exc.message
    else:
        raise AssertionError("a bad x-tokenwise-route header was accepted")


def test_explicit_model_bypasses_routing(client: openai.OpenAI) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model="sim-large-reasoner",
        messages=[{"role": "user", "content": TRIVIAL}],
        extra_body={"sim": {"ttft_ms": 0, "inter_chunk_ms": 0}},
    )
    assert raw.headers["x-tokenwise-model"] == "sim-large-reasoner"
    assert "x-tokenwise-route" not in raw.headers


def test_a_conversation_stays_on_its_model_with_or_without_a_system_prompt(
    client: openai.OpenAI,
) -> None:
    """The second turn ("thanks") alone is trivial, but it continues a hard conversation: it is
    answered by the model of the first turn, at its effort, and the header says why. The opening
    that keys the conversation is everything through the first user message, so a conversation
    with no system prompt is found again as well as one with."""
    fast = {"sim": {"ttft_ms": 0, "inter_chunk_ms": 0}}
    for opening in (
        [{"role": "user", "content": HARD_MATH}],
        [
            {"role": "system", "content": "You are a careful tutor."},
            {"role": "user", "content": HARD_MATH},
        ],
    ):
        first = client.chat.completions.with_raw_response.create(
            model="auto", messages=opening, user="pin-test", extra_body=fast
        )
        chosen = route_of(first)
        assert chosen["tier"] == "hard"
        answer = first.parse().choices[0].message.content or ""
        later = [*opening, {"role": "assistant", "content": answer}]
        later.append({"role": "user", "content": "Thanks!"})
        second = client.chat.completions.with_raw_response.create(
            model="auto", messages=later, user="pin-test", extra_body=fast
        )
        kept = route_of(second)
        assert kept["model"] == chosen["model"] and kept["effort"] == chosen["effort"]
        assert kept["reason"] == f"session pinned to {chosen['model']}"
        alone = client.chat.completions.with_raw_response.create(
            model="auto", messages=[{"role": "user", "content": "Thanks!"}], extra_body=fast
        )
        assert route_of(alone)["model"] == "sim-small"  # the same words, no conversation


def test_a_pin_holds_within_the_policy_that_made_it(client: openai.OpenAI) -> None:
    """A conversation that moves from `auto` to `auto-economy` is decided by the economy policy,
    not kept on the model the default policy chose for its first turn."""
    fast = {"sim": {"ttft_ms": 0, "inter_chunk_ms": 0}}
    opening = [{"role": "user", "content": HARD_MATH}]
    first = client.chat.completions.with_raw_response.create(
        model="auto", messages=opening, user="policy-pin", extra_body=fast
    )
    chosen = route_of(first)
    later = [*opening, {"role": "assistant", "content": first.parse().choices[0].message.content}]
    later.append({"role": "user", "content": "Thanks!"})
    economy = client.chat.completions.with_raw_response.create(
        model="auto-economy", messages=later, user="policy-pin", extra_body=fast
    )
    assert not route_of(economy)["reason"].startswith("session pinned")
    assert route_of(economy)["model"] == "sim-small"
    again = client.chat.completions.with_raw_response.create(
        model="auto", messages=later, user="policy-pin", extra_body=fast
    )
    assert route_of(again)["reason"] == f"session pinned to {chosen['model']}"


def test_legacy_completions_route_among_the_models_that_serve_them(
    client: openai.OpenAI, proxy: ServerThread
) -> None:
    """`auto` on /v1/completions picks among models whose `apis` list `completions`; when the
    routed tier has none, the 400 says so instead of naming a model the client never asked
    for as if it had."""
    models = proxy.server.config.app.state.services.settings.models
    serving = {name for name, spec in models.items() if "completions" in spec.apis}
    raw = client.completions.with_raw_response.create(
        model="auto", prompt="Explain the difference between a list and a tuple in Python."
    )
    route = route_of(raw)
    assert route["tier"] == "moderate", route  # its candidates: small, reasoner and large
    assert route["model"] in serving and raw.parse().choices[0].text
    with pytest.raises(openai.BadRequestError) as caught:
        client.completions.create(
            model="auto", prompt=HARD_MATH, extra_headers={"x-tokenwise-route": "tier=hard"}
        )
    error = caught.value.body
    assert isinstance(error, dict) and error["code"] == "unsupported_api"
    assert "hard tier" in error["message"] and "sim-small" in error["message"]


def test_the_route_header_shows_the_effort_the_client_set(client: openai.OpenAI) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model="auto",
        messages=[{"role": "user", "content": HARD_MATH}],
        reasoning_effort="low",
    )
    route = route_of(raw)
    effort = dict(item.split("=", 1) for item in raw.headers["x-tokenwise-effort"].split("; "))
    assert route["effort"] == effort["sent"] == "low", (route, effort)
    assert route["reason"].endswith("effort set by the client")
