"""Finding the instruction in a message that is an instruction plus the text it works on."""

from __future__ import annotations

import pytest

from router.classify.material import instruction_of

ARTICLE = " ".join(["The council approved the new bike lanes after a long debate."] * 10)


def test_an_instruction_before_the_text() -> None:
    text = f"Summarize this article in two sentences:\n\n{ARTICLE}"
    assert instruction_of(text) == "Summarize this article in two sentences:"


def test_an_instruction_after_the_text() -> None:
    text = f"{ARTICLE}\n\nList the people named above."
    assert instruction_of(text) == "List the people named above."


def test_an_instruction_around_the_text_is_both_ends() -> None:
    text = f"Here is an article:\n\n{ARTICLE}\n\nWho voted against it?"
    assert instruction_of(text) == "Here is an article:\n\nWho voted against it?"


def test_the_text_may_have_paragraphs_of_its_own() -> None:
    long_paragraph = ARTICLE[:350]
    text = f"Translate into German:\n\n{long_paragraph}\n\n{long_paragraph}"
    assert instruction_of(text) == "Translate into German:"


@pytest.mark.parametrize(
    "text",
    [
        ARTICLE,  # one paragraph
        "Summarize this:\n\nShort text.",  # two short paragraphs: no material
        f"Summarize this:\n\n{ARTICLE[:200]}",  # too little material
        f"{ARTICLE[:350]}\n\n{ARTICLE[:350]}",  # no short paragraph at either end
        "Summarize:\n" + ARTICLE,  # no blank line
    ],
)
def test_other_messages_have_no_instruction(text: str) -> None:
    assert instruction_of(text) is None


def test_material_must_outweigh_the_instruction() -> None:
    ask = "Please " + "really " * 35 + "summarize this."  # under 300 characters
    assert instruction_of(f"{ask}\n\n{ARTICLE[:500]}") is None
    assert instruction_of(f"{ask}\n\n{ARTICLE} {ARTICLE}") == ask


def test_windows_line_ends_split_the_same() -> None:
    text = f"Summarize this article in two sentences:\r\n\r\n{ARTICLE}"
    assert instruction_of(text) == "Summarize this article in two sentences:"


THREAD = (
    "From: Priya\nThe review moved to Friday 10am. Can everyone make it?\n\n"
    "From: Tom\nFriday works, but I'm out Thursday afternoon.\n\n"
    "From: Aisha\nI can't do 10am Friday. Could we do 2pm?"
)


def test_an_email_thread_is_material_however_short() -> None:
    # its first message is part of the thread, not an instruction before it
    assert instruction_of(f"{THREAD}\n\nDraft Priya's reply.") == "Draft Priya's reply."
    wide = THREAD.replace("From: ", "发件人：")
    assert instruction_of(f"{wide}\n\n帮Priya写一封回复。") == "帮Priya写一封回复。"
    de = THREAD.replace("From: ", "Von: ")
    assert instruction_of(f"{de}\n\nFass den Verlauf zusammen.") == "Fass den Verlauf zusammen."


@pytest.mark.parametrize(
    "text",
    [
        THREAD,  # the last paragraph is a message of the thread
        f"{THREAD}\n\n" + "Please " * 60,  # an instruction over 300 characters
        "From: Priya\nHello.\n\nWhat does this mean?",  # one message is not a thread
    ],
)
def test_a_thread_without_a_short_last_instruction_has_none(text: str) -> None:
    assert instruction_of(text) is None
