"""Deployment patterns for a policy ``policy(obs) -> action``, independent of the RL engine.

Lesson 06 in four parts, one idea each:

* :mod:`~rl_best_practices.deployment.shadow`: :class:`ShadowDeployment`, a candidate sees the
  same observations as the serving policy; its actions are logged and compared, never executed.
* :mod:`~rl_best_practices.deployment.canary`: :class:`Canary`, a fraction of traffic goes to the
  candidate, assigned stickily by :func:`assign_fraction` (SHA-256 of a key), ramped up stage by
  stage while :class:`Guard` metrics hold, and rolled back automatically the moment a guard with
  enough samples is breached.
* :mod:`~rl_best_practices.deployment.fallback`: :class:`FallbackChain`, primary, previous model,
  rule-based; each but the last behind a :class:`~rl_best_practices.circuit.CircuitBreaker`, so
  a policy that raises, returns an invalid action or exceeds its latency budget is skipped. Each
  answer is a :class:`FallbackDecision`; when every policy fails the chain raises
  :class:`~rl_best_practices.errors.AllPoliciesFailedError`.
* :mod:`~rl_best_practices.deployment.registry`: :class:`ModelRegistry`, model versions on disk
  (JSON, written atomically) as :class:`ModelVersion` records with their config hash, metrics and
  stage (one of :data:`STAGES`).

Time comes from injectable clocks and memory is bounded (running statistics, ``deque`` logs).

>>> chain = FallbackChain([("primary", lambda obs: 1 / 0), ("rules", lambda obs: 1)])
>>> chain.decide([0.0]).action, chain.decide([0.0]).source
(1, 'rules')
"""

from rl_best_practices.deployment.canary import Canary, Guard, assign_fraction
from rl_best_practices.deployment.fallback import FallbackChain, FallbackDecision
from rl_best_practices.deployment.registry import STAGES, ModelRegistry, ModelVersion
from rl_best_practices.deployment.shadow import ShadowDeployment

__all__ = [
    "STAGES",
    "Canary",
    "FallbackChain",
    "FallbackDecision",
    "Guard",
    "ModelRegistry",
    "ModelVersion",
    "ShadowDeployment",
    "assign_fraction",
]
