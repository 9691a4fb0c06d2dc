"""The shipped classifier on hand-written cases (none of them in training/prompts.jsonl).

Assertions are on categories and tier bands, never on exact numbers.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from router.classify import CATEGORIES, EFFORTS, TIERS, Classifier, load_classifier

EASY = ("trivial", "simple")
HARD = ("moderate", "hard")


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return load_classifier()


CASES = [
    # knowledge
    ("What is the capital of Portugal?", "knowledge", ("trivial",)),
    ("Who painted The Starry Night?", "knowledge", ("trivial",)),
    ("How do earthquakes happen?", "knowledge", EASY),
    (
        "Compare the causes and consequences of the 1929 crash and the 2008 financial crisis.",
        "knowledge",
        ("moderate", "hard"),
    ),
    # chat
    ("hey there :)", "chat", ("trivial",)),
    ("thanks a lot, you're the best!", "chat", ("trivial",)),
    ("I'm nervous about moving abroad next month. Any tips for settling in?", "chat", EASY),
    # writing
    ("Write a haiku about snow.", "writing", ("trivial", "simple")),
    (
        "Write a short thank-you email to my team for finishing the release on time.",
        "writing",
        EASY,
    ),
    (
        "Write a 1,500-word short story told backwards in time, with two narrators whose accounts "
        "contradict each other, ending where the story chronologically begins.",
        "writing",
        HARD,
    ),
    # transform
    ("Translate 'where is the train station?' into Spanish.", "transform", EASY),
    ("Convert this list to a markdown table: apples 3, pears 5, plums 7.", "transform", EASY),
    # code
    ("How do I check the length of a string in JavaScript?", "code", EASY),
    ("Write a Python function that checks whether a number is even.", "code", EASY),
    (
        "Implement a concurrent skip list in Java with lock-free insert and delete, and prove "
        "it is linearizable.",
        "code",
        ("hard",),
    ),
    # math
    ("What is 9 times 6?", "math", ("trivial",)),
    ("Solve for x: 4x - 7 = 21.", "math", EASY),
    ("Prove that there are infinitely many primes of the form 4k + 3.", "math", HARD),
    (
        "Find all integer solutions of x^2 - 7y^2 = 1 and prove there are infinitely many.",
        "math",
        ("hard",),
    ),
    # logic
    ("If all dogs are mammals and Rex is a dog, is Rex a mammal?", "logic", EASY),
    (
        "On an island of knights and knaves, A says 'B is a knave', B says 'C is a knave', and "
        "C says 'A and B are both knaves'. Determine who is what and show every case.",
        "logic",
        HARD,
    ),
]


@pytest.mark.parametrize(("text", "category", "tiers"), CASES)
def test_hand_written_cases(
    classifier: Classifier, text: str, category: str, tiers: tuple[str, ...]
) -> None:
    result = classifier.classify_text(text)
    assert result.category == category
    assert result.tier in tiers


def test_a_long_trivial_question_stays_easy(classifier: Classifier) -> None:
    text = (
        "So my sister and I have been planning a trip for months, we've read every guidebook, "
        "watched hours of videos about trains and hostels and the best time of year to go, and "
        "argued about whether to take the night bus or fly, which honestly nearly ended our "
        "friendship twice. Now we're finally packing, and she asked me something I couldn't "
        "answer while we were folding clothes. What is the capital of Hungary?"
    )
    result = classifier.classify_text(text)
    assert result.category == "knowledge"
    assert result.tier in EASY
    assert "last_question" in result.features
    # The request path asks for no explanation: the same verdict, no features.
    quiet = classifier.classify_text(text, explain=False)
    assert quiet == replace(result, features={})


def test_short_hard_questions_are_not_easy(classifier: Classifier) -> None:
    texts = [
        "Prove that P != NP.",
        "Prove that e^pi is transcendental.",
        "Prove the Riemann hypothesis for function fields.",
        "Prove Catalan's conjecture.",
        "Show that there is no largest prime gap.",
        "Prove the Kepler conjecture.",
    ]
    results = [classifier.classify_text(text) for text in texts]
    assert all(r.category == "math" and r.tier != "trivial" for r in results)
    assert sum(r.tier in HARD for r in results) >= 4
    assert sum(r.effort in ("medium", "high") for r in results) >= 4


def test_a_math_word_in_a_trivia_question_is_still_trivia(classifier: Classifier) -> None:
    for text in ("Who invented the calculus of variations?", "Which Greek wrote the Elements?"):
        result = classifier.classify_text(text)
        assert result.category == "knowledge"
        assert result.tier in EASY
        assert result.effort == "none"


def test_code_pasted_with_a_trivial_ask_stays_easy(classifier: Classifier) -> None:
    code = "\n".join(
        [
            "```go",
            "package main",
            "",
            'import "fmt"',
            "",
            "type Stack struct{ items []int }",
            "",
            "func (s *Stack) Push(v int) { s.items = append(s.items, v) }",
            "",
            "func (s *Stack) Pop() int {",
            "    v := s.items[len(s.items)-1]",
            "    s.items = s.items[:len(s.items)-1]",
            "    return v",
            "}",
            "",
            "func main() {",
            "    s := &Stack{}",
            "    s.Push(1)",
            "    fmt.Println(s.Pop())",
            "}",
            "```",
        ]
    )
    result = classifier.classify_text(code + "\nWhat programming language is this?")
    assert result.category == "code"
    assert result.tier in EASY


BARE_CODE = (
    # a function stub with its docstring, as code benchmarks pose tasks
    "from typing import List\n\n\ndef separate_groups(text: str) -> List[str]:\n"
    '    """ Split a string of nested parentheses into its balanced groups.\n'
    "    >>> separate_groups('( ) (( ))')\n    ['()', '(())']\n    \"\"\"\n",
    "function debounce(fn, ms) {\n  let t;\n  return (...args) => {\n"
    "    clearTimeout(t);\n    t = setTimeout(() => fn(...args), ms);\n  };\n}\n"
    "Explain what this does.",
    "public int max(int[] values) {\n    int best = values[0];\n"
    "    for (int v : values) if (v > best) best = v;\n    return best;\n}\n"
    "Is there a bug here?",
)


@pytest.mark.parametrize("text", BARE_CODE)
def test_code_pasted_without_fences_is_code_as_with_them(classifier: Classifier, text: str) -> None:
    lines = text.rstrip("\n").split("\n")
    ask = [line for line in lines if line and line[0].isupper() and line.endswith((".", "?"))]
    code = [line for line in lines if line not in ask]
    fenced = "```\n" + "\n".join(code) + "\n```\n" + "\n".join(ask)
    bare = classifier.classify_text(text)
    assert bare.category == "code"
    assert bare.category == classifier.classify_text(fenced).category


SHIPPING = (
    "The global shipping industry is facing a period of significant change. Rising fuel costs, "
    "new environmental rules from the International Maritime Organization and shifting trade "
    "patterns have all put pressure on carriers. Several major lines plan to invest in ammonia- "
    "and methanol-powered vessels, while others are betting on liquefied natural gas as a "
    "transition fuel. Port congestion that peaked during the pandemic has eased, but labour "
    "disputes in several regions still cause delays. Analysts expect consolidation to continue "
    "as smaller carriers struggle to finance fleet renewal."
)
HOTEL = (
    "We stayed four nights in a sea-view room. The staff were lovely and the breakfast buffet "
    "had everything you could want, from fresh pastries to made-to-order omelettes. The room "
    "itself was tired: the carpet was stained, the air conditioning rattled all night and the "
    "shower never got properly hot. We asked to move and were told the hotel was full. The "
    "location is perfect, five minutes from the old town and the beach, but at this price we "
    "expected far better upkeep. We probably would not come back."
)


@pytest.mark.parametrize(
    "text",
    [
        f"Summarize the following article in three bullet points:\n\n{SHIPPING}",
        f"Translate this review into Spanish:\n\n{HOTEL}",
        f"{HOTEL}\n\nExtract the complaints as a JSON list of strings.",
    ],
)
def test_pasted_text_does_not_make_reworking_it_hard(classifier: Classifier, text: str) -> None:
    result = classifier.classify_text(text)
    assert result.category == "transform"  # not the pasted text's subject
    assert result.tier != "hard"
    assert "instruction" in result.features


PROBLEM = (
    "You are given an array of n integers (1 <= n <= 2*10^5) and q queries. Each query gives l, "
    "r and k, and asks for the number of distinct values that occur at least k times in "
    "a[l..r]. Queries must be answered online: each query's l and r are xor-ed with the "
    "previous answer. Memory is limited to 256 MB and the time limit is 3 seconds. Describe an "
    "algorithm and its complexity, then implement it in C++."
)


@pytest.mark.parametrize(
    "text", [f"Problem:\n\n{PROBLEM}\n\nThanks!", f"Hi there!\n\n{PROBLEM}", PROBLEM]
)
def test_a_problem_statement_is_not_material(classifier: Classifier, text: str) -> None:
    # "Problem: ... Thanks!" alone is an easy chat; the statement between is the problem
    result = classifier.classify_text(text)
    assert result.tier == "hard"
    assert "instruction" not in result.features


THREAD = (
    "From: Priya\nHi team, the client moved the review to Friday 10am. Can everyone make it? "
    "We need the slides by Thursday noon.\n\nFrom: Tom\nFriday works for me, but I'm out "
    "Thursday afternoon, so I'll send my section Wednesday.\n\nFrom: Aisha\nI can't do 10am "
    "Friday; I have the press briefing. Could we do 2pm instead? Otherwise I can send notes."
)


@pytest.mark.parametrize(
    "ask",
    [
        "Write a reply from Priya proposing 2pm Friday and asking Tom for his section.",
        "Summarize who can attend when.",
    ],
)
def test_an_email_thread_about_times_is_not_a_puzzle(classifier: Classifier, ask: str) -> None:
    result = classifier.classify_text(f"{THREAD}\n\n{ask}")
    assert result.category in ("writing", "transform")
    assert result.tier in EASY


def test_a_hard_question_about_pasted_text_stays_hard(classifier: Classifier) -> None:
    ask = (
        "Draw on shipping economics to forecast, with reasoning, how carrier consolidation "
        "will affect freight rates over the next decade, and what could prove that forecast "
        "wrong."
    )
    result = classifier.classify_text(f"{SHIPPING}\n\n{ask}")
    assert result.tier == "hard"
    assert "instruction" not in result.features  # the instruction alone is not easy


SUPPORT_BOT = (
    "You are Ava, the customer support assistant for Northwind Outfitters, an online store "
    "selling outdoor clothing and equipment. Always be polite and concise. Never promise refunds "
    "beyond the policy: items may be returned within 30 days if unused, with the receipt. "
    "Shipping takes 3-5 business days within the country and 7-14 internationally. Orders can "
    "be tracked at northwind.example/track with the order number. If a customer is angry, "
    "apologise once and offer to escalate to a human agent. Do not discuss competitors. Answer "
    "in the customer's language. If you do not know the answer, say so and offer to create a "
    "ticket. Keep answers under 120 words unless the customer asks for detail."
)


@pytest.mark.parametrize(
    "ask",
    ["Hi, where is my order? It's #58213.", "Can I return boots I wore once?", "thanks, bye!"],
)
def test_a_long_system_prompt_is_not_the_question(classifier: Classifier, ask: str) -> None:
    # A support bot's rules ("if ..., never ...", numbers of days) once made every such
    # request `logic` or `math` and sent it to a reasoner.
    with_policy = classifier.classify(
        {"messages": [{"role": "system", "content": SUPPORT_BOT}, {"role": "user", "content": ask}]}
    )
    assert with_policy.category in ("chat", "knowledge")
    assert with_policy.tier in EASY
    assert with_policy.effort == "none"


def test_a_system_prompt_still_counts_for_a_hard_ask(classifier: Classifier) -> None:
    grader = (
        "You are a strict grader for a university real analysis course. Check every step of "
        "the student's argument, point out any gap, and give a score out of 10."
    )
    proof = (
        "Claim: every bounded monotone sequence converges. Proof: it is bounded, so it has a "
        "convergent subsequence by Bolzano-Weierstrass, and a monotone sequence with a "
        "convergent subsequence converges. QED"
    )
    result = classifier.classify(
        {"messages": [{"role": "system", "content": grader}, {"role": "user", "content": proof}]}
    )
    assert result.tier in HARD


def test_request_shape_signals(classifier: Classifier) -> None:
    image = {"type": "image_url", "image_url": {"url": "https://example.com/x.png"}}
    photo = classifier.classify(
        {
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "Solve the integral in this photo step by step."},
                        image,
                    ],
                }
            ]
        }
    )
    assert photo.category == "math"
    thanks = classifier.classify(
        {
            "messages": [
                {"role": "user", "content": "Explain how a hash map handles collisions."},
                {"role": "assistant", "content": "It uses chaining or open addressing..."},
                {"role": "user", "content": "cool, thanks!"},
            ]
        }
    )
    assert thanks.category == "chat"
    assert thanks.tier == "trivial"
    coder = classifier.classify(
        {
            "messages": [
                {"role": "system", "content": "You are an expert Python programming assistant."},
                {"role": "user", "content": "How do I reverse a list?"},
            ]
        }
    )
    assert coder.category == "code"
    assert coder.tier in EASY


def test_results_are_deterministic(classifier: Classifier) -> None:
    body = {"messages": [{"role": "user", "content": "Prove that sqrt(3) is irrational."}]}
    first = classifier.classify(body)
    assert all(classifier.classify(body) == first for _ in range(5))
    assert load_classifier().classify(body) == first
    assert classifier.classify(body, explain=False) == replace(first, features={})


def test_result_fields_are_well_formed(classifier: Classifier) -> None:
    result = classifier.classify_text("Write a function that merges two sorted lists.")
    assert result.category in CATEGORIES
    assert result.tier in TIERS
    assert result.effort in EFFORTS
    assert 0.0 <= result.difficulty <= 1.0
    assert 0.0 <= result.confidence <= 1.0
    assert 1 <= len(result.features) <= 8
    assert result.features["est_tokens"] > 0


ODD_BODIES: list[Any] = [
    {},
    {"messages": []},
    {"messages": None},
    {"messages": [{"role": "user", "content": None}]},
    {"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]},
    {"messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}, {"type": "text"}]}]},
    {"messages": [{"role": "tool", "content": "42"}], "tools": [{}], "response_format": "json"},
    {"messages": [{"role": "user", "content": "x" * 2_000_000}]},
    {"messages": [{"role": "user", "content": "?" * 50_000 + "```" + "\n" * 10_000}]},
    {"messages": [{"role": "user", "content": "mot " * 100_000}]},
    {"messages": [{"role": "user", "content": "\x00\ud800 emoji 😀 中文 العربية"}]},
]


@pytest.mark.parametrize("body", ODD_BODIES)
def test_odd_inputs_never_raise(classifier: Classifier, body: Any) -> None:
    result = classifier.classify(body)
    assert result.category in CATEGORIES
    assert 0.0 <= result.difficulty <= 1.0


_CONTENT = st.one_of(
    st.none(),
    st.text(max_size=300),
    st.lists(
        st.one_of(
            st.text(max_size=50),
            st.dictionaries(st.sampled_from(["type", "text", "image_url"]), st.text(max_size=20)),
            st.integers(),
        ),
        max_size=4,
    ),
)
_MESSAGE = st.one_of(
    st.fixed_dictionaries(
        {"role": st.sampled_from(["user", "assistant", "system", "tool", "x"]), "content": _CONTENT}
    ),
    st.none(),
    st.text(max_size=10),
)


@settings(max_examples=150, deadline=None)
@given(messages=st.lists(_MESSAGE, max_size=6), tools=st.one_of(st.none(), st.lists(st.none())))
def test_fuzzed_bodies_never_raise(
    classifier: Classifier, messages: list[Any], tools: list[None] | None
) -> None:
    result = classifier.classify({"messages": messages, "tools": tools})
    assert result.tier in TIERS
    assert 0.0 <= result.confidence <= 1.0
