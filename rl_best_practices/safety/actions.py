"""Numeric actions as the safety layer handles them, and the nearest safe one by bisection.

* :func:`nearest_safe_point` is minimal intervention: on the segment from a safe anchor (the
  fallback's action) to an unsafe proposal, the checked-safe point nearest the proposal, found by
  bisection. :class:`~rl_best_practices.safety.layer.SafetyLayer` uses it for every projection.
* The helpers below it (package-private, used by the layer) keep one internal form per action, a
  Python ``float`` for a scalar and a float64 array otherwise, parse and apply ``action_bounds``,
  and give the executed action back in the caller's form.

>>> limit = lambda x: x <= 4.0
>>> nearest_safe_point(0.0, 10.0, limit, tolerance=1e-9)
(4.0, True)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from rl_best_practices.errors import InvalidTypeError, InvalidValueError
from rl_best_practices.validation import check_callable, check_number

__all__ = ["nearest_safe_point"]

_Bounds = tuple[Any, Any]  # (low, high): two floats, or two float64 arrays of one shape


def nearest_safe_point(
    anchor: Any, target: Any, is_safe: Callable[[Any], bool], tolerance: float = 1e-6
) -> tuple[Any, bool]:
    """The point nearest ``target`` on ``[anchor, target]`` found safe by ``is_safe``.

    ``anchor`` must be safe. Bisection halves the bracket between the last safe and the first
    unsafe fraction of the segment until it is shorter than ``tolerance`` (in action units), so
    it costs ``log2(length / tolerance)`` checks. Returns ``(point, moved)``; ``moved`` is False
    when no point beyond the anchor was found safe. The result is the nearest safe point when the
    safe part of the segment is an interval containing the anchor (true for convex constraints
    such as position or risk limits); otherwise it is still a point that ``is_safe`` accepted.

    >>> import numpy as np
    >>> point, moved = nearest_safe_point(np.zeros(2), np.array([4.0, 4.0]),
    ...                                   lambda x: x.sum() <= 4.0, tolerance=1e-9)
    >>> np.round(point, 6), moved
    (array([2., 2.]), True)
    """
    check_callable("is_safe", is_safe)
    tolerance = check_number("tolerance", tolerance, minimum=0, low_open=True)
    delta = target - anchor
    length = abs(delta) if isinstance(delta, float) else float(np.linalg.norm(delta))
    if not math.isfinite(length) or length == 0.0:
        return anchor, False
    safe_point, lo, hi = anchor, 0.0, 1.0
    while (hi - lo) * length > tolerance:
        mid = 0.5 * (lo + hi)
        point = anchor + mid * delta
        if is_safe(point):
            safe_point, lo = point, mid
        else:
            hi = mid
    return safe_point, lo > 0.0


# ---- the internal form of an action --------------------------------------------------------------

def _parse_bounds(bounds: Any) -> _Bounds | None:
    """``(low, high)`` as two floats or two broadcast float64 arrays; ``None`` stays ``None``."""
    if bounds is None:
        return None
    message = (f"action_bounds must be None or a pair (low, high) with low <= high, "
               f"got {bounds!r}")
    if not isinstance(bounds, (tuple, list)):
        raise InvalidTypeError(message)
    if len(bounds) != 2:
        raise InvalidValueError(message)
    try:
        low, high = np.broadcast_arrays(*(np.asarray(b, dtype=np.float64) for b in bounds))
    except (TypeError, ValueError):
        raise InvalidTypeError(message) from None
    if np.isnan(low).any() or np.isnan(high).any() or (low > high).any():
        raise InvalidValueError(message)
    if low.ndim == 0:
        return float(low), float(high)
    return low.copy(), high.copy()


def _bounds_text(bounds: _Bounds | None) -> str:
    if bounds is None:
        return "(none)"
    low, high = bounds
    return f"[{np.round(low, 6).tolist()}, {np.round(high, 6).tolist()}]"


def _to_internal(action: Any, bounds: _Bounds | None, what: str = "action") -> Any:
    """A Python float for a scalar, a float64 array otherwise (shape checked against bounds)."""
    if action is None or isinstance(action, (bool, np.bool_, str, bytes)):
        raise InvalidTypeError(f"{what} must be numeric (a number or an array), got {action!r}")
    if isinstance(action, (int, float, np.integer, np.floating)):
        return float(action)
    try:
        arr = np.array(action, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidTypeError(
            f"{what} must be numeric (a number or an array), got {action!r}") from None
    if bounds is not None and not isinstance(bounds[0], float):
        try:
            np.broadcast_shapes(arr.shape, bounds[0].shape)
        except ValueError:
            raise InvalidValueError(
                f"{what} has shape {arr.shape}, incompatible with action_bounds of shape "
                f"{bounds[0].shape}"
            ) from None
    return arr


def _all_finite(x: Any) -> bool:
    return math.isfinite(x) if isinstance(x, float) else bool(np.isfinite(x).all())


def _in_bounds(x: Any, bounds: _Bounds | None) -> bool:
    if bounds is None:
        return True
    low, high = bounds
    if isinstance(x, float) and isinstance(low, float):
        return low <= x <= high
    return bool(np.all((low <= x) & (x <= high)))


def _clip(x: Any, bounds: _Bounds | None) -> Any:
    if bounds is None:
        return x
    low, high = bounds
    if isinstance(x, float) and isinstance(low, float):
        return min(max(x, low), high)
    return np.clip(x, low, high)


def _equal(a: Any, b: Any) -> bool:
    return a == b if isinstance(a, float) else bool(np.array_equal(a, b))


def _show(x: Any) -> str:
    return f"{x:.6g}" if isinstance(x, float) else str(np.round(x, 6).tolist())


def _like(x: Any, template: Any) -> Any:
    """``x`` in the internal form of ``template`` (InvalidValueError when sizes differ)."""
    if np.size(x) != np.size(template):
        raise InvalidValueError(
            f"action {_show(x)} does not match the proposal's size {np.size(template)}")
    if isinstance(template, np.ndarray):
        return np.asarray(x, dtype=np.float64).reshape(template.shape)
    return float(np.asarray(x).reshape(-1)[0]) if not isinstance(x, float) else x


def _to_user_like(x: Any, template: Any) -> Any:
    """``x`` in the form of the caller's action ``template`` (a float, or a float64 array of its
    shape)."""
    # Arrays come back as float64: a float32 copy would round the checked value (95 + 5.000004
    # is 100.0 in float32), so the action executed could differ from the one checked.
    if isinstance(x, float) and not isinstance(template, np.ndarray):
        return x
    shape = template.shape if isinstance(template, np.ndarray) else np.shape(x)
    return np.asarray(x, dtype=np.float64).reshape(shape)
