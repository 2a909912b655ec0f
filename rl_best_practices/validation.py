"""Argument checks shared by every lesson, so the same bad input gets the same error everywhere.

Each check returns the value in a plain form (``int``, ``float``, ``str``, a float array) or raises
:class:`~rl_best_practices.errors.InvalidTypeError` for a wrong type and
:class:`~rl_best_practices.errors.InvalidValueError` for a value outside what is allowed. The
message names the argument, says what is allowed and shows what was given. Booleans are refused
wherever a number is expected: ``window=True`` is a mistake, not a window of 1.

>>> check_int("window", 100, minimum=1)
100
>>> check_number("confidence", 0.95, minimum=0, maximum=1, low_open=True, high_open=True)
0.95
>>> check_int("window", 0, minimum=1)
Traceback (most recent call last):
...
rl_best_practices.errors.InvalidValueError: window must be an integer >= 1, got 0
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection
from numbers import Integral, Real
from typing import Any

import numpy as np

from rl_best_practices.errors import InvalidTypeError, InvalidValueError

__all__ = [
    "check_array",
    "check_callable",
    "check_choice",
    "check_int",
    "check_number",
    "check_probability",
    "check_rows",
    "check_text",
]


def _range(minimum: float | None, maximum: float | None, low_open: bool, high_open: bool) -> str:
    if minimum is not None and maximum is not None:
        return f" in {'(' if low_open else '['}{minimum}, {maximum}{')' if high_open else ']'}"
    if minimum is not None:
        return f" {'>' if low_open else '>='} {minimum}"
    if maximum is not None:
        return f" {'<' if high_open else '<='} {maximum}"
    return ""


def _in_range(
    value: float, minimum: float | None, maximum: float | None, low_open: bool, high_open: bool
) -> bool:
    if minimum is not None and (value <= minimum if low_open else value < minimum):
        return False
    return not (maximum is not None and (value >= maximum if high_open else value > maximum))


def check_int(
    name: str, value: Any, *, minimum: int | None = None, maximum: int | None = None
) -> int:
    """``value`` as an ``int`` within ``[minimum, maximum]``; ``bool`` and floats are refused.

    >>> check_int("seed", np.int64(3), minimum=0)
    3
    """
    expected = f"{name} must be an integer{_range(minimum, maximum, False, False)}, got {value!r}"
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, Integral):
        raise InvalidTypeError(expected)
    if not _in_range(int(value), minimum, maximum, False, False):
        raise InvalidValueError(expected)
    return int(value)


def check_number(
    name: str,
    value: Any,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """``value`` as a finite ``float`` within the range; ``low_open``/``high_open`` exclude an end.

    >>> check_number("gamma", 1, minimum=0, maximum=1, low_open=True)
    1.0
    """
    interval = _range(minimum, maximum, low_open, high_open)
    expected = f"{name} must be a finite number{interval}, got {value!r}"
    if isinstance(value, np.ndarray) and value.ndim == 0:  # what a policy or env often returns
        value = value.item()
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, Real):
        raise InvalidTypeError(expected)
    number = float(value)
    if not math.isfinite(number) or not _in_range(number, minimum, maximum, low_open, high_open):
        raise InvalidValueError(expected)
    return number


def check_probability(name: str, value: Any, *, open_ends: bool = False) -> float:
    """``value`` as a probability in [0, 1] (in (0, 1) with ``open_ends``).

    >>> check_probability("alpha", 0.05, open_ends=True)
    0.05
    """
    return check_number(
        name, value, minimum=0, maximum=1, low_open=open_ends, high_open=open_ends
    )


def check_choice(name: str, value: Any, choices: Collection[Any]) -> Any:
    """``value`` if it is one of ``choices``.

    >>> check_choice("correction", "bh", ("bonferroni", "bh"))
    'bh'
    """
    try:
        allowed = value in choices
    except TypeError:  # an unhashable value cannot be one of a set's members
        allowed = False
    if not allowed:
        raise InvalidValueError(
            f"{name} must be one of {', '.join(map(repr, choices))}; got {value!r}"
        )
    return value


def check_text(name: str, value: Any) -> str:
    """``value`` if it is a string with at least one non-blank character.

    >>> check_text("trajectory_id", "ep-1")
    'ep-1'
    """
    if not isinstance(value, str):
        raise InvalidTypeError(f"{name} must be a non-empty string, got {type(value).__name__}")
    if not value.strip():
        raise InvalidValueError(f"{name} must be a non-empty string, got {value!r}")
    return value


def check_callable(name: str, value: Any) -> Callable[..., Any]:
    """``value`` if it can be called.

    >>> check_callable("policy", abs) is abs
    True
    """
    if not callable(value):
        raise InvalidTypeError(f"{name} must be callable, got {type(value).__name__}")
    return value


def check_array(
    name: str, values: Any, *, ndim: int | None = None, min_size: int = 1
) -> np.ndarray:
    """``values`` as a finite float64 array (a copy) with ``ndim`` dimensions and at least
    ``min_size`` elements.

    >>> check_array("returns", [1, 2.5], ndim=1)
    array([1. , 2.5])
    """
    try:
        array = np.array(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidTypeError(
            f"{name} must be numeric, got {type(values).__name__}: {exc}"
        ) from None
    if ndim is not None and array.ndim != ndim:
        raise InvalidValueError(f"{name} must be a {ndim}-D array, got shape {array.shape}")
    if array.size < min_size:
        raise InvalidValueError(
            f"{name} must hold at least {min_size} value(s), got shape {array.shape}"
        )
    if not np.isfinite(array).all():
        raise InvalidValueError(f"{name} must be finite; found NaN or infinite values")
    return array


def check_rows(name: str, values: Any, *, min_rows: int = 1) -> np.ndarray:
    """``values`` as a finite 2-D float array, one observation per row (1-D is one column).

    >>> check_rows("reference", [1.0, 2.0]).shape
    (2, 1)
    """
    array = check_array(name, values, min_size=0)
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2 or array.shape[0] < min_rows or array.shape[1] == 0:
        raise InvalidValueError(
            f"{name} must be a 2-D array (rows of observations) with at least {min_rows} "
            f"row(s), got shape {array.shape}"
        )
    return array
