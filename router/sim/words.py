"""Cheap filler text whose token count is known in advance.

Every word below, with its leading space, is exactly one token in both `o200k_base` and
`cl100k_base` (checked with tiktoken 0.14 when the lists were written), and so is ".". A text
of N pieces from here is therefore N tokens to a real tokenizer, give or take the first word.
"""

from __future__ import annotations

import random
from functools import cache

_ANSWER = """the of and to in is that it for on with as was at by be this from or have an are
not but all can which one you they we there more their has will about would if out up what so
some time other into could them two than only its first new been also may after most people
over way year these work such use well any even back good should know much where each those day
same long water place small sound part great while found still high every city world light tree
land home state name line both river house point form number answer often plan many true earth
open north south east west near large table word hand under early side clear level field short
order fire ocean energy value model system data result paper color green blue red black white
simple rock stone gold silver metal heat cold rain snow wind star moon sun planet matter power
force speed wave rate price cost market trade money bank story book page music song art film
game team player club group family child school class student teacher"""

_REASONING = """so wait let me think first check then next maybe the answer is that this means
if we now again consider case step total count need find value given known fact recall also but
however because since thus hence note sure right wrong try other way look back compare both each
number result sum part whole more less same equal small large start end question asked user
wants want simple clear seems likely true false assume suppose example test verify done okay
good fine yes no one two three four five six seven eight nine ten half double rule pattern
order list option choice either neither condition goal"""

ANSWER_WORDS: tuple[str, ...] = tuple(" " + word for word in _ANSWER.split())
REASONING_WORDS: tuple[str, ...] = tuple(" " + word for word in _REASONING.split())
SENTENCE_LENGTH = 12


_TAPE_LENGTH = 1 << 15


@cache
def _tape(vocabulary: tuple[str, ...]) -> tuple[str, ...]:
    """A long fixed sequence of pieces (built on first use), cut into texts by `filler`."""
    pieces = random.Random(len(vocabulary)).choices(vocabulary, k=_TAPE_LENGTH)
    for index in range(SENTENCE_LENGTH - 1, _TAPE_LENGTH, SENTENCE_LENGTH):
        pieces[index] = "."
    return tuple(pieces) * 2


def filler(rng: random.Random, count: int, vocabulary: tuple[str, ...]) -> list[str]:
    """`count` one-token pieces from a seeded place on the tape (words, and full stops).

    Slicing a precomputed tape costs a fraction of drawing each word, which matters when a
    reasoning model writes thousands of tokens per request in a benchmark.
    """
    if count <= 0:
        return []
    tape = _tape(vocabulary)
    start = rng.randrange(_TAPE_LENGTH)
    if count <= _TAPE_LENGTH:
        pieces = list(tape[start : start + count])
    else:
        laps = (start + count) // len(tape) + 1
        pieces = list((tape * laps)[start : start + count])
    pieces[0] = pieces[0].lstrip() if pieces[0] != "." else "So"
    return pieces


def answer_pieces(rng: random.Random, count: int) -> list[str]:
    return filler(rng, count, ANSWER_WORDS)


def reasoning_pieces(rng: random.Random, count: int) -> list[str]:
    return filler(rng, count, REASONING_WORDS)


def estimate_tokens(text: str) -> int:
    """Tokens of arbitrary text (prompts, JSON), by the usual four characters per token."""
    return (len(text) + 3) // 4


def split_text(text: str, size: int) -> list[str]:
    """Cut JSON or other generated text into about-one-token pieces of `size` characters."""
    return [text[i : i + size] for i in range(0, len(text), size)] if text else []
