import re

import numpy as np
import pytest

from router.classify.features import (
    DENSE_NAMES,
    SYLLABIC_HEAD,
    SYLLABIC_TAIL,
    FeatureExtractor,
    last_question,
    normalise,
    tokens_of,
)
from router.classify.request import text_view, view

SAMPLES = [
    "",
    "hi",
    "What's O(n^2) in C++? std::vector<int> v; x_1 += 3.14",
    "Résumé: 東京 and São Paulo — naïve café 😀",
    "```python\ndef f(x):\n    return x * 2\n```\nWhat does this do?",
    "Line one.\n- item\n- item\n1) first\nA. yes\nB. no\n$\\frac{a}{b}$ and 3 + 4 = 7",
]


@pytest.mark.parametrize("text", [s for s in SAMPLES if "東" not in s])
def test_fast_tokenizer_matches_the_regex(text: str) -> None:
    low = normalise(text)
    assert tokens_of(low) == re.findall(r"\w+|\S", low)


def test_scripts_without_spaces_give_a_token_per_character() -> None:
    """Chinese and Japanese write no spaces between words, and a Korean word carries its
    particles: each character is a token, so that consecutive pairs are character bigrams;
    Latin, Cyrillic and digits around them stay words."""
    assert tokens_of(normalise("证明：对于所有正整数n，n^3-n能被6整除。")) == [
        *"证明", ":", *"对于所有正整数", "n", ",", "n", "^", "0", "-", "n", *"能被", "0",
        *"整除", ".",
    ]  # fmt: skip
    assert tokens_of(normalise("Pythonで関数を書いて")) == ["python", *"で関数を書いて"]
    assert tokens_of(normalise("수학 문제를 풀어 주세요")) == [*"수학문제를풀어주세요"]
    assert tokens_of(normalise("Résumé: 東京 and São")) == ["résumé", ":", "東", "京", "and", "são"]
    assert tokens_of(normalise("Докажите, что")) == ["докажите", ",", "что"]


def test_full_width_forms_read_as_ascii() -> None:
    assert normalise("ＡＢＣ１２３？（ｘ）") == "abc000?(x)"
    assert normalise("你好。再见、朋友") == "你好.再见,朋友"


@pytest.mark.parametrize("text", SAMPLES)
def test_dense_features_are_named_and_scaled(text: str) -> None:
    features = FeatureExtractor(8192).extract(text_view(text))
    assert len(features.dense) == len(DENSE_NAMES)
    assert all(0.0 <= value <= 1.0 for value in features.dense)
    assert len(features.ids) == len(features.values)
    assert all(0 <= i < 8192 for i in features.ids.tolist())


def test_hashing_does_not_depend_on_the_process() -> None:
    # crc32 keys and multiplicative buckets: fixed numbers, whatever PYTHONHASHSEED is. If this
    # changes, every trained artifact is silently wrong: retrain and update the numbers.
    extractor = FeatureExtractor(8192)
    assert extractor.token_keys(["prove", "the"]) == [4193302655, 1011183078]
    assert extractor.extract(text_view("prove")).ids.tolist() == [4989, 8154]


def test_same_input_same_features_and_cache_does_not_change_them() -> None:
    cold = FeatureExtractor(1024).extract(text_view("Translate 'hello' into French."))
    warm_extractor = FeatureExtractor(1024)
    warm_extractor.extract(text_view("Translate 'hello' into French."))
    warm = warm_extractor.extract(text_view("Translate 'hello' into French."))
    assert np.array_equal(cold.ids, warm.ids)
    assert np.array_equal(cold.values, warm.values)
    assert cold.dense == warm.dense


def test_work_is_bounded_on_huge_inputs() -> None:
    extractor = FeatureExtractor(8192)
    features = extractor.extract(text_view("word " * 500_000))
    assert len(features.ids) < 2 * 1000
    assert features.dense[DENSE_NAMES.index("len_xl")] == 1.0


def test_system_prompt_and_code_fences_add_their_own_grams() -> None:
    extractor = FeatureExtractor(8192)
    plain = extractor.extract(view({"messages": [{"role": "user", "content": "reverse a list"}]}))
    system = extractor.extract(
        view(
            {
                "messages": [
                    {"role": "system", "content": "You are a Python expert."},
                    {"role": "user", "content": "reverse a list"},
                ]
            }
        )
    )
    assert len(system.ids) > len(plain.ids)
    fenced = extractor.extract(text_view("```\nx = 1\n```\nreverse a list"))
    assert fenced.dense[DENSE_NAMES.index("fenced")] > 0


def test_last_question_span() -> None:
    text = "Long story. Which currency does Peru use? Thanks"
    span = last_question(text)
    assert span is not None
    assert text[span[0] : span[1] + 1] == "Which currency does Peru use?"
    assert last_question("no question here") is None
    assert last_question("Why?") == (0, 3)


def test_full_width_question_marks_count() -> None:
    text = "我昨天去了北京。故宫周一开门吗？"
    span = last_question(text)
    assert span is not None
    assert text[span[0] : span[1] + 1] == "故宫周一开门吗？"
    extractor = FeatureExtractor(8192)
    questions = DENSE_NAMES.index("questions")
    wide = extractor.extract(text_view("周一开门吗？周二呢？")).dense[questions]
    ascii_marks = extractor.extract(text_view("Open Monday? And Tuesday?")).dense[questions]
    assert wide == ascii_marks > 0


def test_bad_hash_dimension_is_refused() -> None:
    with pytest.raises(ValueError, match="power of two"):
        FeatureExtractor(1000)


def test_long_text_in_characters_keeps_its_head_and_tail() -> None:
    text = "开头" + "中" * 5000 + "结尾"
    tokens = tokens_of(normalise(text))
    assert len(tokens) == SYLLABIC_HEAD + SYLLABIC_TAIL
    assert tokens[:2] == ["开", "头"] and tokens[-2:] == ["结", "尾"]
