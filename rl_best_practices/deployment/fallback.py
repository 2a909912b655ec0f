"""Graceful degradation: try policies in order until one answers in time with a valid action.

:class:`FallbackChain` holds the primary policy, the previous model and a rule-based last resort.
Each but the last sits behind a :class:`~rl_best_practices.circuit.CircuitBreaker`, so a policy
that raises, returns an invalid action or misses its deadline is skipped, and one that keeps
failing is not called again until its cool-down is over. The latency budget is a *deadline*: the
call runs in a worker thread and the chain stops waiting when the budget is spent, so a hung model
delays a decision by the budget, not by however long it hangs. Each answer comes back as a
:class:`FallbackDecision` saying which policy gave it and what failed before it.

>>> chain = FallbackChain([("primary", lambda obs: 1 / 0), ("rules", lambda obs: 1)])
>>> chain.decide([0.0]).action, chain.decide([0.0]).source
(1, 'rules')
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any

from rl_best_practices.circuit import CircuitBreaker
from rl_best_practices.deployment._common import Policy
from rl_best_practices.errors import AllPoliciesFailedError, InvalidTypeError, InvalidValueError
from rl_best_practices.validation import check_callable, check_int, check_number

__all__ = ["FallbackChain", "FallbackDecision"]


@dataclass(frozen=True)
class FallbackDecision:
    """One decision of a :class:`FallbackChain`: the action, which policy gave it, what failed.

    >>> FallbackDecision(action=1, source="rules", seconds=0.002, failures=("primary raised",))
    FallbackDecision(action=1, source='rules', seconds=0.002, failures=('primary raised',))
    """

    action: Any
    source: str
    seconds: float
    failures: tuple[str, ...] = ()


def _check_policies(policies: Sequence[tuple[str, Policy]]) -> list[tuple[str, Policy]]:
    if isinstance(policies, str) or not isinstance(policies, Iterable):
        raise InvalidTypeError(
            f"policies must be a sequence of (name, policy) pairs, got {type(policies).__name__}"
        )
    policies = list(policies)
    if not policies:
        raise InvalidValueError("policies must hold at least one (name, policy) pair, got none")
    for pair in policies:
        if not (isinstance(pair, tuple) and len(pair) == 2 and isinstance(pair[0], str)
                and callable(pair[1])):
            raise InvalidTypeError(f"each policy must be a (name, callable) pair, got {pair!r}")
    names = [name for name, _ in policies]
    if len(set(names)) != len(names):
        raise InvalidValueError(f"policy names must be unique, got {names}")
    return policies


class FallbackChain:
    """Try policies in order (primary, previous model, rule-based) until one answers in time.

    Args:
        policies: ``(name, policy)`` pairs, best first; the last is the last resort (typically a
            rule-based policy) and has no breaker.
        latency_budget_s: each policy's deadline: the chain waits this long (real time) for an
            answer, then moves on, and an answer that comes later is never used; a call the
            injected ``clock`` measures as slower also fails. ``None`` for no deadline (the call
            then runs in the caller's thread).
        is_valid: ``is_valid(action) -> bool`` (e.g. ``env.action_space.contains``); an invalid
            action counts as a failure.
        failure_threshold, cooldown_s: settings of each policy's
            :class:`~rl_best_practices.circuit.CircuitBreaker`.
        clock: seconds, for latency and the breakers (``time.perf_counter`` by default).
        max_log: how many recent decisions :attr:`log` keeps.
        max_workers: worker threads for deadline calls; a policy that hangs for good holds one
            until it returns (its breaker then stops calling it).

    >>> now = [0.0]
    >>> def slow(obs):
    ...     now[0] += 0.5      # takes 500 ms on the fake clock
    ...     return 2
    >>> chain = FallbackChain([("model", slow), ("rules", lambda obs: 1)], latency_budget_s=0.1,
    ...                       failure_threshold=2, clock=lambda: now[0])
    >>> [chain.decide(None).source for _ in range(4)]
    ['rules', 'rules', 'rules', 'rules']
    >>> chain.breakers["model"].state, chain.counts["model"]
    ('open', 0)
    """

    def __init__(
        self,
        policies: Sequence[tuple[str, Policy]],
        *,
        latency_budget_s: float | None = None,
        is_valid: Callable[[Any], bool] | None = None,
        failure_threshold: int = 3,
        cooldown_s: float = 30.0,
        clock: Callable[[], float] = time.perf_counter,
        max_log: int = 1000,
        max_workers: int = 4,
    ) -> None:
        self.policies = _check_policies(policies)
        if latency_budget_s is not None:
            latency_budget_s = check_number(
                "latency_budget_s", latency_budget_s, minimum=0, low_open=True
            )
        if is_valid is not None:
            check_callable("is_valid", is_valid)
        # checked here too: a chain of one policy builds no breaker that would check them
        failure_threshold = check_int("failure_threshold", failure_threshold, minimum=1)
        cooldown_s = check_number("cooldown_s", cooldown_s, minimum=0, low_open=True)
        self.latency_budget_s = latency_budget_s
        self.is_valid = is_valid
        self.clock = check_callable("clock", clock)
        self.breakers = {
            name: CircuitBreaker(failure_threshold, cooldown_s, clock=clock)
            for name, _ in self.policies[:-1]
        }
        self.counts = {name: 0 for name, _ in self.policies}
        self.failures = {name: 0 for name, _ in self.policies}
        self.log: deque[FallbackDecision] = deque(maxlen=check_int("max_log", max_log, minimum=1))
        self._max_workers = check_int("max_workers", max_workers, minimum=1)
        self._pool: ThreadPoolExecutor | None = None

    def _call(self, policy: Policy, obs: Any) -> Any:
        """``policy(obs)``, abandoned (``FutureTimeout``) once the deadline has passed."""
        if self.latency_budget_s is None:
            return policy(obs)
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self._max_workers, thread_name_prefix="fallback")
        return self._pool.submit(policy, obs).result(timeout=self.latency_budget_s)

    def _try(self, name: str, policy: Policy, obs: Any) -> tuple[bool, Any, str]:
        start = self.clock()
        try:
            action = self._call(policy, obs)
        except FutureTimeout:
            return False, None, f"{name} missed its {self.latency_budget_s:g} s deadline"
        except Exception as exc:
            return False, None, f"{name} raised {type(exc).__name__}: {exc}"
        elapsed = self.clock() - start
        if self.latency_budget_s is not None and elapsed > self.latency_budget_s:
            return False, None, f"{name} took {elapsed:.3g} s > budget {self.latency_budget_s:g} s"
        if self.is_valid is not None:
            try:
                valid = bool(self.is_valid(action))
            except Exception:  # an action the validator cannot even read is invalid
                valid = False
            if not valid:
                return False, None, f"{name} returned an invalid action {action!r}"
        return True, action, ""

    def decide(self, obs: Any) -> FallbackDecision:
        """Ask each policy in turn; return the first good answer as a :class:`FallbackDecision`.

        Raises :class:`~rl_best_practices.errors.AllPoliciesFailedError` (listing every
        failure) if even the last one fails.
        """
        start = self.clock()
        failures: list[str] = []
        for name, policy in self.policies:
            breaker = self.breakers.get(name)
            if breaker is not None and not breaker.allow_request():
                failures.append(f"{name} skipped: circuit open")
                continue
            ok, action, why = self._try(name, policy, obs)
            if breaker is not None and ok:
                breaker.record_success()
            elif breaker is not None:
                breaker.record_failure()
            if ok:
                self.counts[name] += 1
                decision = FallbackDecision(action, name, self.clock() - start, tuple(failures))
                self.log.append(decision)
                return decision
            self.failures[name] += 1
            failures.append(why)
        raise AllPoliciesFailedError("every policy failed: " + "; ".join(failures))

    def __call__(self, obs: Any) -> Any:
        """The action alone, so the chain is itself a policy ``obs -> action``."""
        return self.decide(obs).action
