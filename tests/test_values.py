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
