"""One error hierarchy and one validation module: the same bad input, the same error."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rl_best_practices import errors
from rl_best_practices.validation import (
    check_array,
    check_callable,
    check_choice,
    check_int,
    check_number,
    check_probability,
    check_rows,
    check_text,
)


@pytest.mark.parametrize(
    "cls, builtin",
    [
        (errors.InvalidValueError, ValueError),
        (errors.InvalidTypeError, TypeError),
        (errors.InvalidTypeError, ValueError),
        (errors.ConfigTypeError, TypeError),
        (errors.ConfigMismatchError, ValueError),
        (errors.MissingWeightError, KeyError),
        (errors.UnknownItemError, KeyError),
        (errors.MissingFileError, FileNotFoundError),
        (errors.NotFittedError, RuntimeError),
        (errors.NoSafeActionError, RuntimeError),
        (errors.AllPoliciesFailedError, RuntimeError),
    ],
)
def test_each_error_is_a_package_error_and_the_builtin_a_caller_catches(cls, builtin):
    assert issubclass(cls, errors.Error) and issubclass(cls, builtin)


def test_key_errors_print_their_message_unquoted():
    assert str(errors.UnknownItemError("no item 'x'")) == "no item 'x'"


@pytest.mark.parametrize("bad", [True, np.bool_(False), 1.0, "3", None])
def test_check_int_refuses_non_integers_with_a_type_error(bad):
    with pytest.raises(errors.InvalidTypeError, match="window must be an integer >= 1"):
        check_int("window", bad, minimum=1)


@given(st.integers(-10**6, 10**6))
def test_check_int_accepts_exactly_the_range(value):
    if 0 <= value <= 100:
        assert check_int("n", value, minimum=0, maximum=100) == value
    else:
        with pytest.raises(errors.InvalidValueError, match=r"n must be an integer in \[0, 100\]"):
            check_int("n", value, minimum=0, maximum=100)


def test_check_int_accepts_numpy_integers_and_returns_int():
    value = check_int("seed", np.int32(7), minimum=0)
    assert value == 7 and type(value) is int


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_check_number_refuses_non_finite(bad):
    with pytest.raises(errors.InvalidValueError, match="gamma must be a finite number"):
        check_number("gamma", bad)


@pytest.mark.parametrize("bad", [True, "0.5", None, [0.5]])
def test_check_number_refuses_non_numbers(bad):
    with pytest.raises(errors.InvalidTypeError):
        check_number("gamma", bad)


def test_check_number_open_and_closed_ends():
    assert check_number("x", 0, minimum=0) == 0.0
    with pytest.raises(errors.InvalidValueError, match=r"x must be a finite number > 0"):
        check_number("x", 0, minimum=0, low_open=True)
    with pytest.raises(errors.InvalidValueError, match=r"in \(0, 1\)"):
        check_probability("alpha", 1.0, open_ends=True)
    assert check_number("x", np.array(2.5)) == 2.5  # a 0-d array is one number


def test_check_choice_text_callable():
    assert check_choice("method", "bh", ("bh", "bonferroni")) == "bh"
    with pytest.raises(errors.InvalidValueError, match="method must be one of 'bh', 'bonferroni'"):
        check_choice("method", "holm", ("bh", "bonferroni"))
    with pytest.raises(errors.InvalidValueError):
        check_choice("method", ["bh"], ("bh",))  # unhashable, not an error of another kind
    with pytest.raises(errors.InvalidValueError, match="non-empty"):
        check_text("trajectory_id", "  ")
    with pytest.raises(errors.InvalidTypeError, match="non-empty string, got int"):
        check_text("trajectory_id", 3)
    with pytest.raises(errors.InvalidTypeError, match="policy must be callable"):
        check_callable("policy", 3)


def test_check_array_and_rows():
    assert check_rows("x", [1.0, 2.0, 3.0]).shape == (3, 1)
    with pytest.raises(errors.InvalidValueError, match="finite"):
        check_array("x", [1.0, np.nan])
    with pytest.raises(errors.InvalidValueError, match="1-D"):
        check_array("x", [[1.0]], ndim=1)
    with pytest.raises(errors.InvalidTypeError, match="numeric"):
        check_array("x", ["a"])
    with pytest.raises(errors.InvalidValueError, match="at least 2 row"):
        check_rows("x", [[1.0, 2.0]], min_rows=2)


def test_check_array_returns_a_copy():
    source = np.array([1.0, 2.0])
    check_array("x", source)[0] = 9.0
    assert source[0] == 1.0
