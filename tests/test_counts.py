import numpy as np
import pandas as pd
import pytest

from toolkit.data.counts import parse_count, parse_counts


@pytest.mark.parametrize(
    "text, expected",
    [
        ("3829", (3829.0, False)),
        ("7.6万", (76000.0, False)),
        ("1.4万", (14000.0, False)),
        ("12万", (120000.0, False)),
        ("1万+", (10000.0, True)),
        ("1千+", (1000.0, True)),
        ("10+", (10.0, True)),
        ("99+", (99.0, True)),
        ("0", (0.0, False)),
        ("", (0.0, False)),
        ("   ", (0.0, False)),
        (None, (0.0, False)),
        (float("nan"), (0.0, False)),
        ("2亿", (2e8, False)),
        ("1.2w", (12000.0, False)),
        ("3W", (30000.0, False)),
        ("5k", (5000.0, False)),
        ("2.5K+", (2500.0, True)),
        ("1,234", (1234.0, False)),
        ("1,234,567", (1234567.0, False)),
        (" 42 ", (42.0, False)),
        ("7.6 万", (76000.0, False)),
        (17, (17.0, False)),
        (3.0, (3.0, False)),
    ],
)
def test_parse_count_accepts_display_forms(text, expected):
    value, flag = parse_count(text)
    assert value == expected[0]
    assert flag is expected[1]


@pytest.mark.parametrize("text", ["abc", "1,23", "12,3456", "-5", "1.2.3", "万", "+", "1万万", "1 2", "one"])
def test_parse_count_rejects_other_text_with_expected_forms(text):
    with pytest.raises(ValueError) as info:
        parse_count(text)
    message = str(info.value)
    assert "Expected" in message and "7.6万" in message
    assert repr(text) in message


@pytest.mark.parametrize("value", [True, -1, float("inf"), [1]])
def test_parse_count_rejects_non_counts(value):
    with pytest.raises(ValueError):
        parse_count(value)


def test_parse_counts_matches_scalar_parser_and_keeps_order():
    cells = ["3829", "7.6万", None, "1万+", "", "99+", "3829", np.nan, "0"]
    values, flags = parse_counts(pd.Series(cells, dtype=object, index=range(10, 19)))
    assert values.dtype == np.float64 and flags.dtype == bool
    expected = [parse_count(c) for c in cells]
    assert values.tolist() == [v for v, _ in expected]
    assert flags.tolist() == [f for _, f in expected]


def test_parse_counts_accepts_lists_and_empty_input():
    values, flags = parse_counts(["1", "2千+"])
    assert values.tolist() == [1.0, 2000.0] and flags.tolist() == [False, True]
    values, flags = parse_counts([])
    assert values.shape == (0,) and flags.shape == (0,)


def test_parse_counts_raise_and_coerce():
    with pytest.raises(ValueError, match="'lots'"):
        parse_counts(["1", "lots"])
    values, flags = parse_counts(["1", "lots", "1万+"], errors="coerce")
    assert values[0] == 1.0 and np.isnan(values[1]) and values[2] == 10000.0
    assert flags.tolist() == [False, False, True]
    with pytest.raises(ValueError, match="errors"):
        parse_counts(["1"], errors="ignore")


def test_parse_counts_on_many_repeated_values():
    rng = np.random.default_rng(0)
    choices = ["3829", "7.6万", "1万+", "0", "99+", "10+", "12"]
    cells = pd.Series(rng.choice(choices, size=10_000))
    values, flags = parse_counts(cells)
    expected = {c: parse_count(c) for c in choices}
    assert values.tolist() == [expected[c][0] for c in cells]
    assert flags.tolist() == [expected[c][1] for c in cells]
