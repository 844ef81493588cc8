from __future__ import annotations

import math

import pytest

from ingest import values as v


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("010.000.000.001", "10.0.0.1"),
        ("10.0.0.1", "10.0.0.1"),
        (" 192.168.001.020 ", "192.168.1.20"),
        ("2001:DB8:0:0:0:0:0:1", "2001:db8::1"),
        ("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
        ("2001:db8::1", "2001:db8::1"),
        ("::ffff:10.0.0.1", "10.0.0.1"),
    ],
)
def test_ip_normalisation_makes_equal_addresses_equal(raw: str, expected: str) -> None:
    assert v.parse_ip(raw) == expected


@pytest.mark.parametrize("raw", ["256.1.1.1", "1.2.3", "abc", "1.2.3.4.5", "gggg::1", ""])
def test_bad_ip_is_rejected(raw: str) -> None:
    with pytest.raises(ValueError):
        v.parse_ip(raw)


def test_timestamps_iso_and_epoch_ms_agree() -> None:
    assert v.parse_ts("2026-11-20T13:45:12.123Z") == 1795182312123
    assert v.parse_ts("2026-11-20T14:45:12.123+01:00") == 1795182312123
    assert v.parse_ts("1795182312123") == 1795182312123
    with pytest.raises(ValueError, match="offset"):
        v.parse_ts("2026-11-20T13:45:12")
    with pytest.raises(ValueError):
        v.parse_ts("yesterday")


@pytest.mark.parametrize("raw", ["0", "-1", "nan", "inf", "-inf", "1e400", "x"])
def test_positive_amounts_reject_non_finite_and_non_positive(raw: str) -> None:
    with pytest.raises(ValueError):
        v.parse_positive(raw)


def test_numbers_and_booleans() -> None:
    assert math.isclose(v.parse_positive("1e-8"), 1e-8)
    assert v.parse_non_negative("0") == 0
    assert [v.parse_bool(x) for x in ("TRUE", "1", "yes", "False", "0", "NO")] == [
        True,
        True,
        True,
        False,
        False,
        False,
    ]
    with pytest.raises(ValueError):
        v.parse_bool("maybe")
    assert v.int_between(0, 3)("3") == 3
    with pytest.raises(ValueError):
        v.int_between(0, 3)("4")
    with pytest.raises(ValueError):
        v.int_between(0, 3)("1.5")


@pytest.mark.parametrize("text", ["A1", "ünï-中文", "emoji-🙂", 'quote"d', "a b", "NBSP\u00a0id"])
def test_ids_without_control_characters_pass(text: str) -> None:
    assert v.is_control_free(text)
    assert v.parse_id(f" {text} ") == text


@pytest.mark.parametrize("char", ["\x00", "\x01", "\t", "\n", "\r", "\x7f", "\x80", "\x9f"])
def test_control_characters_are_named_in_the_reason(char: str) -> None:
    assert not v.is_control_free(f"a{char}b")
    assert v.control_char(f"a{char}b") == f"U+{ord(char):04X}"
    with pytest.raises(ValueError, match=f"U\\+{ord(char):04X}"):
        v.parse_id(f"a{char}b")


def test_line_and_paragraph_separators_are_not_control_characters() -> None:
    # Separators (Zl, Zp), not controls: ids may hold them; pages escape them (test_ui_hostile).
    assert v.control_char("a\u2028b\u2029") is None
    assert v.parse_id("a\u2028b") == "a\u2028b"


def test_free_text_keeps_line_breaks_and_tabs_but_not_nul() -> None:
    assert v.parse_text("multi\nline\tagent") == "multi\nline\tagent"
    with pytest.raises(ValueError, match="U\\+0000"):
        v.parse_text("a\x00b")


@pytest.mark.parametrize("raw", [1.0, True, float("nan"), ["a"], {"a": 1}, b"a"])
def test_ids_from_parquet_must_be_text_or_integers(raw: object) -> None:
    with pytest.raises(ValueError):
        v.parse_id(raw)
    assert v.parse_id(123) == "123"


def test_number_and_timestamp_bounds_give_reasons() -> None:
    assert v.number_too_large(1e15, 1e15) is None
    assert v.number_too_large(2e15, 1e15) == "2e+15 is larger than the maximum 1e+15"
    assert v.ts_out_of_range(5, 0, 10) is None
    assert "outside the plausible range 1970-01-01T00:00:00Z" in (
        v.ts_out_of_range(11, 0, 10) or ""
    )
    assert "ms outside" in (v.ts_out_of_range(10**30, 0, 10) or "")


@pytest.mark.parametrize("raw", ["1e400", "99999999999999999999", "²", True, 1.5])
def test_timestamps_never_raise_anything_but_value_error(raw: object) -> None:
    with pytest.raises(ValueError):
        v.parse_ts(raw)


def test_int_between_rejects_overflow_and_booleans() -> None:
    parse = v.int_between(0, 3)
    for raw in ("1e400", "nan", True):
        with pytest.raises(ValueError):
            parse(raw)
