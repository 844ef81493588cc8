"""``KnownIds`` answers exactly what pyarrow's ``is_in`` answers (nulls are never known)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import given, settings
from hypothesis import strategies as hs

from ingest.known_ids import KnownIds

PLAIN = hs.text(
    alphabet=hs.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=20
)
ANY_ID = hs.one_of(PLAIN, hs.text(max_size=12), hs.none())


def _expected(known: list[str | None], values: list[str | None]) -> np.ndarray:
    asked = pa.array(values, pa.string())
    answer = pc.and_(pc.is_in(asked, value_set=pa.array(known, pa.string())), pc.is_valid(asked))
    return np.asarray(pc.fill_null(answer, False).to_numpy(zero_copy_only=False), dtype=bool)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(known=hs.lists(ANY_ID, max_size=40), extra=hs.lists(ANY_ID, max_size=40), data=hs.data())
def test_contains_equals_is_in(
    known: list[str | None], extra: list[str | None], data: hs.DataObject
) -> None:
    asked = data.draw(hs.lists(hs.sampled_from(known + extra) if known + extra else ANY_ID))
    found = KnownIds(pa.array(known, pa.string())).contains(pa.array(asked, pa.string()))
    assert found.tolist() == _expected(known, asked).tolist()


def test_padding_prefixes_and_long_ids_are_not_confused() -> None:
    known = KnownIds(pa.array(["U1", "U12345678", "ab cd", "Zoë", "A" * 17, "", None]))
    answers = {
        "U1": True,
        "U1 ": False,
        "U12345678": True,
        "U123456789": False,
        "U1234567": False,
        "ab": False,
        "ab cd": True,
        "Zoë": True,
        "Zoe": False,
        "A" * 17: True,
        "A" * 16: False,
        "A" * 18: False,
        "": True,
        " ": False,
    }
    asked = pa.array([*answers, None])
    assert known.contains(asked).tolist() == [*answers.values(), False]


def test_sliced_and_chunked_values() -> None:
    ids = [f"acct-{i:05d}" for i in range(5000)]
    known = KnownIds(pa.array(ids[::2]))
    values = pa.chunked_array([pa.array(ids[:2500]).slice(3), pa.array(ids[2500:])])
    expected = [int(v[5:]) % 2 == 0 for v in values.to_pylist()]
    assert known.contains(values).tolist() == expected


def test_ids_sharing_a_hash_are_answered_exactly() -> None:
    """The exact fallback, taken when two known ids hash alike, answers the same."""
    ids = [f"account-{i}-x" for i in range(300)]
    known = KnownIds(pa.array(ids[:200]))
    known._unique = False  # what a collision among the known hashes sets
    asked = pa.array([*ids[150:], None, "account-1-x "])
    assert known.contains(asked).tolist() == [True] * 50 + [False] * 100 + [False, False]
