"""Deployment patterns for a policy ``policy(obs) -> action``, independent of the RL engine.

Lesson 06 in four parts, one idea each:

* :mod:`~rl_best_practices.deployment.shadow`: :class:`ShadowDeployment`, a candidate sees the
  same observations as the serving policy; its actions are logged and compared, never executed;
  :func:`counterfactual_returns` gives its exact counterfactual returns on production's days
  when actions do not move the world.
* :mod:`~rl_best_practices.deployment.canary`: :class:`Canary`, a fraction of traffic goes to the
  candidate, assigned stickily by :func:`assign_fraction` (SHA-256 of a key), ramped up stage by
  stage only while every :class:`Guard` is shown to hold, and rolled back the moment one is shown
  breached or a stage stays inconclusive too long.
* :mod:`~rl_best_practices.deployment.sequential`: the always-valid confidence sequences the
  guards use, and :func:`noninferiority_samples` to plan a canary's size;
  :mod:`~rl_best_practices.deployment.simulation` measures a canary's error rates on synthetic
  traffic.
* :mod:`~rl_best_practices.deployment.fallback`: :class:`FallbackChain`, primary, previous model,
  rule-based; each but the last behind a :class:`~rl_best_practices.circuit.CircuitBreaker`, so
  a policy that raises, returns an invalid action or misses its latency deadline is skipped. Each
  answer is a :class:`FallbackDecision`; when every policy fails the chain raises
  :class:`~rl_best_practices.errors.AllPoliciesFailedError`.
* :mod:`~rl_best_practices.deployment.registry`: :class:`ModelRegistry`, model versions on disk
  (JSON, written atomically) as :class:`ModelVersion` records with their config hash, metrics and
  stage (one of :data:`STAGES`); a production model is replaced only by a candidate shown better
  or non-inferior.

Time comes from injectable clocks and memory is bounded (running statistics, ``deque`` logs).

>>> chain = FallbackChain([("primary", lambda obs: 1 / 0), ("rules", lambda obs: 1)])
>>> chain.decide([0.0]).action, chain.decide([0.0]).source
(1, 'rules')
"""

from rl_best_practices.deployment.canary import Canary, Guard, GuardInterval, assign_fraction
from rl_best_practices.deployment.fallback import FallbackChain, FallbackDecision
from rl_best_practices.deployment.registry import STAGES, ModelRegistry, ModelVersion
from rl_best_practices.deployment.sequential import noninferiority_samples
from rl_best_practices.deployment.shadow import ShadowDeployment, counterfactual_returns

__all__ = [
    "STAGES",
    "Canary",
    "FallbackChain",
    "FallbackDecision",
    "Guard",
    "GuardInterval",
    "ModelRegistry",
    "ModelVersion",
    "ShadowDeployment",
    "assign_fraction",
    "counterfactual_returns",
    "noninferiority_samples",
]
