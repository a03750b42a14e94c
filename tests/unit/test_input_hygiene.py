"""What text and JSON a caller may send, and how much of it a message shows back
(planning.model.limits, schema.scalars)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from planning.errors import DomainError
from planning.model.limits import (
    MAX_ECHO,
    MAX_JSON_DEPTH,
    MAX_MESSAGE,
    check_json,
    check_storable,
    clipped,
    json_depth,
    shown,
    storable_problem,
)
from schema.scalars import parse_aws_json, serialize_aws_json


def nested(depth: int, leaf: Any = 1) -> Any:
    value = leaf
    for level in range(depth):
        value = [value] if level % 2 else {"k": value}
    return value


@pytest.mark.parametrize("text", ["", "plain", "émoji 🚀", "tab\tnew\nline", "\U0010ffff"])
def test_valid_unicode_is_storable(text: str) -> None:
    assert storable_problem(text) is None
    check_storable(text, "input", "title")


@pytest.mark.parametrize(
    ("text", "words"), [("a\x00b", "NUL"), ("a\ud800b", "lone surrogate"), ("\udfff", "surrogate")]
)
def test_nul_and_lone_surrogates_are_not(text: str, words: str) -> None:
    problem = storable_problem(text)
    assert problem is not None
    assert words in problem
    with pytest.raises(DomainError) as refused:
        check_storable(text, "input", "idempotencyKey")
    assert refused.value.field == ("input", "idempotencyKey")
    assert refused.value.message.startswith("idempotencyKey ")


def test_json_depth_counts_arrays_and_objects_without_recursion() -> None:
    assert json_depth(1, 100) == 0
    assert json_depth([], 100) == 1
    assert json_depth({"a": [1, {"b": []}]}, 100) == 4
    assert json_depth(nested(50_000), 100) == 100  # stops counting at the bound asked


def test_payloads_deeper_than_the_bound_are_refused() -> None:
    check_json(nested(MAX_JSON_DEPTH), "payload")
    with pytest.raises(DomainError) as refused:
        check_json(nested(MAX_JSON_DEPTH + 1), "payload")
    assert "nested more than 32 levels deep" in refused.value.message


def test_the_awsjson_scalar_refuses_deep_and_long_text_at_the_edge() -> None:
    assert parse_aws_json(json.dumps(nested(MAX_JSON_DEPTH))) == nested(MAX_JSON_DEPTH)
    for text in ("[" * 33 + "]" * 33, "[" * 100_000 + "]" * 100_000):
        with pytest.raises(ValueError, match="nested more than 32 levels deep"):
            parse_aws_json(text)
    with pytest.raises(ValueError, match="longer than 256 KiB"):
        parse_aws_json(json.dumps("x" * 300_000))
    with pytest.raises(ValueError, match="not valid JSON"):
        parse_aws_json("{oops")


def test_whatever_was_stored_serializes_however_deep() -> None:
    deep = nested(5_000, leaf="x")
    expected = '"x"'
    for level in range(5_000):
        expected = f"[{expected}]" if level % 2 else f'{{"k":{expected}}}'
    assert serialize_aws_json(deep) == expected


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
        lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=4), children, max_size=4),
        max_leaves=20,
    )
)
def test_the_serializer_without_recursion_writes_what_json_writes(value: Any) -> None:
    from schema.scalars import _dumps_without_recursion

    assert _dumps_without_recursion(value) == json.dumps(value, separators=(",", ":"), sort_keys=True)


def test_shown_cuts_what_a_message_echoes() -> None:
    assert shown("short") == "'short'"
    long = shown("x" * 10_000)
    assert long.startswith("'" + "x" * MAX_ECHO + "'")
    assert "10,000 characters" in long
    assert len(long) < MAX_ECHO + 40
    assert shown(["a"] * 1000) == "a list of 1,000 items"
    assert shown({"a": 1}) == "an object of 1 keys"
    assert shown(nested(5_000)) == "a list of 1 items"  # no repr, so no recursion
    assert shown("\ud800") == "'\\ud800'"  # escaped: a message stays valid Unicode


def test_clipped_holds_other_libraries_messages_to_the_bound() -> None:
    name = "n" * 5_000
    message = clipped(f"Cannot query field '{name}' on type 'Plan'.")
    assert message.endswith("' on type 'Plan'.")
    assert len(message) < 120
    assert clipped('short "quoted" text') == 'short "quoted" text'
    assert len(clipped("y" * 5_000)) == MAX_MESSAGE + 1
