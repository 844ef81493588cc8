"""``IdIndex`` answers exactly what pyarrow's ``index_in`` and ``is_in`` answer (a null is never
found)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import given, settings
from hypothesis import strategies as hs

from events.id_index import IdIndex

PLAIN = hs.text(
    alphabet=hs.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=20
)
ANY_ID = hs.one_of(PLAIN, hs.text(max_size=12), hs.none())


def _expected(known: list[str | None], values: list[str | None]) -> np.ndarray:
    asked = pa.array(values, pa.string())
    at = pc.index_in(asked, value_set=pa.array(known, pa.string()))
    at = pc.if_else(pc.is_valid(asked), at, pa.scalar(None, pa.int32()))
    return np.asarray(pc.fill_null(at, -1).to_numpy(zero_copy_only=False), dtype=np.int64)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(known=hs.lists(ANY_ID, max_size=40), extra=hs.lists(ANY_ID, max_size=40), data=hs.data())
def test_positions_equal_index_in(
    known: list[str | None], extra: list[str | None], data: hs.DataObject
) -> None:
    asked = data.draw(hs.lists(hs.sampled_from(known + extra) if known + extra else ANY_ID))
    index = IdIndex(pa.array(known, pa.string()))
    expected = _expected(known, asked)
    assert index.positions(pa.array(asked, pa.string())).tolist() == expected.tolist()
    assert index.contains(pa.array(asked, pa.string())).tolist() == (expected >= 0).tolist()


def test_padding_prefixes_and_long_ids_are_not_confused() -> None:
    known = IdIndex(pa.array(["U1", "U12345678", "ab cd", "Zoë", "A" * 17, "", None]))
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
    known = IdIndex(pa.array(ids[::2]))
    values = pa.chunked_array([pa.array(ids[:2500]).slice(3), pa.array(ids[2500:])])
    expected = [int(v[5:]) % 2 == 0 for v in values.to_pylist()]
    assert known.contains(values).tolist() == expected


def test_ids_sharing_a_hash_are_answered_exactly() -> None:
    """The exact fallback, taken when two known ids hash alike, answers the same."""
    ids = [f"account-{i}-x" for i in range(300)]
    known = IdIndex(pa.array(ids[:200]))
    known._unique = False  # what a collision among the known hashes sets
    asked = pa.array([*ids[150:], None, "account-1-x "])
    assert known.positions(asked).tolist() == [*range(150, 200), *[-1] * 102]
