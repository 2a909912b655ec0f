"""A fail-closed safety layer between a policy and the world it acts on (lesson 02).

The parts, each read on its own:

* :mod:`~rl_best_practices.safety.layer`: :class:`SafetyLayer`, which executes only actions that
  passed every check (else the nearest safe one, a fallback's or a default action, else it
  raises :class:`NoSafeActionError`), and :class:`SafetyDecision`, what it did with one proposal.
* :mod:`~rl_best_practices.safety.constraints`: the :data:`Constraint` contract
  ``fn(action, state) -> (is_safe, reason)`` and :func:`evaluate_constraint`, which fails closed.
* :mod:`~rl_best_practices.safety.actions`: :func:`nearest_safe_point`, minimal intervention by
  bisection, and the numeric action forms the layer works on.
* :mod:`~rl_best_practices.safety.market`: the course market's :func:`market_state`, the
  constraints :func:`position_limit` and :func:`var_limit`, and the fallback
  :func:`reduce_position`.
* :mod:`~rl_best_practices.safety.realised`: the layer judged by the world, realised VaR
  breaches and P&L per episode (:func:`realised_breaches`) and across safety margins
  (:func:`margin_sweep`, :func:`margin_layer`).
* :mod:`~rl_best_practices.safety.wrappers`: :class:`SafetyWrapper` and :class:`ActionMaskWrapper`
  apply a layer inside a Gymnasium env (the second with RLlib's action-mask observation).

:class:`NoSafeActionError` is defined in :mod:`rl_best_practices.errors` with the package's other
exceptions and importable from here.

>>> layer = SafetyLayer(action_bounds=(-10, 10), constraint_functions=[position_limit(100)])
>>> layer.decide(12.0, {"position": 0}).outcome   # out of bounds: clipped, then checked again
'clipped'
"""

from rl_best_practices.errors import NoSafeActionError
from rl_best_practices.safety.actions import nearest_safe_point
from rl_best_practices.safety.constraints import Constraint, evaluate_constraint
from rl_best_practices.safety.layer import SafetyDecision, SafetyLayer
from rl_best_practices.safety.market import (
    market_state,
    position_limit,
    reduce_position,
    var_limit,
)
from rl_best_practices.safety.realised import (
    margin_layer,
    margin_sweep,
    realised_breaches,
    signal_trader,
)
from rl_best_practices.safety.wrappers import ActionMaskWrapper, SafetyWrapper

__all__ = [
    "ActionMaskWrapper",
    "Constraint",
    "NoSafeActionError",
    "SafetyDecision",
    "SafetyLayer",
    "SafetyWrapper",
    "evaluate_constraint",
    "margin_layer",
    "margin_sweep",
    "market_state",
    "nearest_safe_point",
    "position_limit",
    "realised_breaches",
    "reduce_position",
    "signal_trader",
    "var_limit",
]
