"""The constraint contract of the safety layer, and how a constraint fails closed.

A :data:`Constraint` is any callable ``fn(action, state) -> (is_safe, reason)``.
:func:`evaluate_constraint` runs one: a constraint that raises, or returns anything other than
``(bool, reason)``, counts as violated (fail closed), because code that cannot say "safe" has not
said it. :class:`~rl_best_practices.safety.layer.SafetyLayer` names its constraints (a lambda is
``"constraint"``, repeated names get ``_2``, ``_3`` ...; ``"finite"`` and ``"bounds"`` name the
layer's own checks and are refused) and evaluates each one through here.

>>> def max_trade(action, state):
...     return abs(action) <= 10, f"trade {action} is over 10 units"
>>> evaluate_constraint("max_trade", max_trade, 12.0, {})
('max_trade: trade 12.0 is over 10 units', False)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from rl_best_practices.errors import InvalidTypeError, InvalidValueError

__all__ = ["Constraint", "evaluate_constraint"]

RESERVED_NAMES = ("finite", "bounds")
"""The layer's own checks (a non-finite action, one outside ``action_bounds``): no constraint may
take these names, so a constraint's count in ``violations_by_constraint`` is its own alone."""

Constraint = Callable[[Any, Any], "tuple[bool, str | None]"]
"""A constraint: ``fn(action, state) -> (is_safe, reason)``; ``reason`` says what was violated."""


def evaluate_constraint(
    name: str, fn: Constraint, action: Any, state: Any
) -> tuple[str | None, bool]:
    """Run ``fn(action, state)``, failing closed: ``(reason, raised)``, ``reason`` ``None`` when
    the constraint passed and ``raised`` True when it raised an exception.

    >>> evaluate_constraint("ok", lambda a, s: (True, None), 1.0, {})
    (None, False)
    >>> evaluate_constraint("limit", lambda a, s: (False, None), 1.0, {})
    ('limit: violated', False)
    >>> evaluate_constraint("limit", lambda a, s: s["position"] + a < 100, 1.0, {})
    ("limit raised KeyError: 'position'", True)
    >>> evaluate_constraint("limit", lambda a, s: ("yes", None), 1.0, {})
    ("limit returned is_safe='yes', expected a bool", False)
    """
    try:
        result = fn(action, state)
    except Exception as exc:  # fail closed on any error in user code
        return f"{name} raised {type(exc).__name__}: {exc}", True
    if not (isinstance(result, tuple) and len(result) == 2):
        return f"{name} returned {result!r}, expected (is_safe, reason)", False
    ok = result[0]
    if isinstance(ok, np.ndarray) and ok.size == 1 and ok.dtype == np.bool_:
        ok = ok.item()
    if not isinstance(ok, (bool, np.bool_)):
        return f"{name} returned is_safe={ok!r}, expected a bool", False
    if ok:
        return None, False
    return f"{name}: {result[1] or 'violated'}", False


def _constraint_name(fn: Callable) -> str:
    name = getattr(fn, "__name__", None) or type(fn).__name__
    return "constraint" if name == "<lambda>" else name


def _named_constraints(functions: Any) -> dict[str, Constraint]:
    """``functions`` (a list of callables or a mapping name -> callable) as a dict by name."""
    if functions is None:
        return {}
    if isinstance(functions, Mapping):
        items = list(functions.items())
    elif isinstance(functions, (list, tuple)):
        items, seen = [], {}
        for fn in functions:
            name = _constraint_name(fn)
            seen[name] = seen.get(name, 0) + 1
            items.append((name if seen[name] == 1 else f"{name}_{seen[name]}", fn))
    else:
        raise InvalidTypeError(
            "constraint_functions must be a list of callables or a mapping name -> callable, "
            f"got {type(functions).__name__}"
        )
    for name, fn in items:
        if not isinstance(name, str) or not callable(fn):
            raise InvalidTypeError(
                f"each constraint must be a callable with a str name, got {name!r}: {fn!r}")
        if name in RESERVED_NAMES:
            raise InvalidValueError(
                f"constraint name {name!r} is reserved for the layer's own {name} check (its "
                "violations would be counted together); give the constraint another name")
    return dict(items)
