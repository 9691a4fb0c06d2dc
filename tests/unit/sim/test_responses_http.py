"""The simulator's /v1/responses and /v1/completions, for the models that list them."""

from __future__ import annotations

import httpx
import openai
import pytest

from router.sim.config import build_sim_config


def test_a_chat_only_model_has_no_responses_or_completions(raw: httpx.Client) -> None:
    for path, body in (
        ("responses", {"model": "sim-think", "input": "Hi"}),
        ("completions", {"model": "sim-think", "prompt": "Hi"}),
    ):
        resp = raw.post(path, json=body)
        assert resp.status_code == 404
        assert "chat completions only" in resp.json()["error"]["message"]


def test_the_same_answer_through_chat_and_responses(client: openai.OpenAI) -> None:
    question = "What is the capital of France?"
    chat = client.chat.completions.create(
        model="sim-large-reasoner",
        messages=[{"role": "user", "content": question}],
        reasoning_effort="low",
    )
    response = client.responses.create(
        model="sim-large-reasoner",
        input=question,
        reasoning={"effort": "low", "summary": "auto"},
    )
    assert response.output_text == chat.choices[0].message.content
    assert chat.usage is not None and response.usage is not None
    assert response.usage.output_tokens == chat.usage.completion_tokens
    assert response.output[0].type == "reasoning"
    assert response.output[0].summary[0].text == chat.choices[0].message.model_extra["reasoning"]


def test_stored_responses_continue_and_can_be_deleted(client: openai.OpenAI) -> None:
    first = client.responses.create(model="sim-small", input="My name is Ada.")
    again = client.responses.create(
        model="sim-small", input="Who am I?", previous_response_id=first.id
    )
    assert again.previous_response_id == first.id
    assert client.responses.retrieve(first.id).output_text == first.output_text
    client.responses.delete(first.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(first.id)
    with pytest.raises(openai.BadRequestError) as caught:
        client.responses.create(model="sim-small", input="x", previous_response_id=first.id)
    assert caught.value.body["code"] == "previous_response_not_found"


def test_store_false_keeps_nothing(client: openai.OpenAI) -> None:
    made = client.responses.create(model="sim-small", input="Hi", store=False)
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(made.id)


def test_encrypted_reasoning_only_when_included(client: openai.OpenAI) -> None:
    plain = client.responses.create(model="sim-large-reasoner", input="Why is the sky blue?")
    assert all(item.type != "reasoning" for item in plain.output)
    sealed = client.responses.create(
        model="sim-large-reasoner",
        input="Why is the sky blue?",
        include=["reasoning.encrypted_content"],
    )
    assert sealed.output[0].type == "reasoning" and sealed.output[0].encrypted_content


def test_legacy_completions_json_and_stream(client: openai.OpenAI) -> None:
    whole = client.completions.create(model="sim-small", prompt="Once upon a time")
    assert whole.object == "text_completion"
    assert whole.usage is not None and whole.usage.completion_tokens <= 16  # OpenAI's default
    parts = list(
        client.completions.create(model="sim-small", prompt="Once upon a time", stream=True)
    )
    assert "".join(p.choices[0].text for p in parts if p.choices) == whole.choices[0].text


def test_legacy_completions_answer_every_prompt_of_an_array(client: openai.OpenAI) -> None:
    prompts = ["Once upon a time", "The capital of France is", "Roses are red"]
    alone = [client.completions.create(model="sim-small", prompt=p, n=2) for p in prompts]
    whole = client.completions.create(model="sim-small", prompt=prompts, n=2)
    # Prompt i's answers are choices 2i and 2i+1, each as that prompt alone would get it.
    assert [c.index for c in whole.choices] == list(range(6))
    assert [c.text for c in whole.choices] == [c.text for a in alone for c in a.choices]
    assert whole.usage is not None
    for field in ("prompt_tokens", "completion_tokens", "total_tokens"):
        assert getattr(whole.usage, field) == sum(getattr(a.usage, field) for a in alone)
    parts = list(
        client.completions.create(
            model="sim-small",
            prompt=prompts,
            n=2,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    assert {p.id for p in parts} == {parts[0].id}
    texts = ["".join(c.text for p in parts for c in p.choices if c.index == i) for i in range(6)]
    assert texts == [c.text for c in whole.choices]
    usages = [p.usage for p in parts if p.usage is not None]
    assert len(usages) == 1 and usages[0].completion_tokens == whole.usage.completion_tokens
    with pytest.raises(openai.BadRequestError, match="array of strings"):
        client.completions.create(model="sim-small", prompt=[[1, 2, 3]])


def test_apis_are_checked_in_the_sim_config() -> None:
    config = build_sim_config({"models": {"mine": {"apis": ["chat", "responses"]}}})
    assert {m.name: m.apis for m in config.models}["mine"] == ("chat", "responses")
    with pytest.raises(ValueError, match="apis"):
        build_sim_config({"models": {"bad": {"apis": ["responses"]}}})
