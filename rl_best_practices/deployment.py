"""Deployment patterns for a policy ``policy(obs) -> action``, independent of the RL engine.

* :class:`ShadowDeployment`: a candidate sees the same observations as the serving policy; its
  actions are logged and compared, never executed.
* :class:`Canary`: a fraction of traffic goes to the candidate, assigned stickily by a SHA-256
  hash of a key (an account, a user), ramped up stage by stage while :class:`Guard` metrics hold,
  and rolled back automatically the moment a guard with enough samples is breached.
* :class:`FallbackChain`: primary, previous model, rule-based; each but the last behind a
  :class:`~rl_best_practices.circuit.CircuitBreaker`, so a policy that raises, returns an invalid
  action or exceeds its latency budget is skipped and the chain degrades gracefully.
* :class:`ModelRegistry`: model versions on disk (JSON, written atomically) with their config
  hash, metrics and stage: candidate, canary, production or archived.

Time comes from injectable clocks and memory is bounded (running statistics, ``deque`` logs).

>>> chain = FallbackChain([("primary", lambda obs: 1 / 0), ("rules", lambda obs: 1)])
>>> chain.decide([0.0]).action, chain.decide([0.0]).source
(1, 'rules')
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import os
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from rl_best_practices.circuit import CircuitBreaker
from rl_best_practices.storage import atomic_write_json, json_sha256, read_json

__all__ = [
    "STAGES",
    "AllPoliciesFailed",
    "Canary",
    "Decision",
    "FallbackChain",
    "Guard",
    "ModelRegistry",
    "ModelVersion",
    "ShadowDeployment",
    "assign_fraction",
    "config_hash",
]

Policy = Callable[[Any], Any]


def _actions_equal(a: Any, b: Any) -> bool:
    scalars = (int, float, np.integer, np.floating)
    if isinstance(a, scalars) and isinstance(b, scalars):  # fast path for discrete actions
        return bool(a == b)
    try:
        return bool(np.array_equal(np.asarray(a), np.asarray(b)))
    except (TypeError, ValueError):
        return False


def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    return int(value)


# --------------------------------------------------------------------------------------------
# Shadow mode
# --------------------------------------------------------------------------------------------
class ShadowDeployment:
    """Serve ``primary``; run ``candidate`` on a copy of the same observation and only log it.

    Args:
        primary: the serving policy; its action is returned and executed.
        candidate: the shadow policy; its action is compared, never returned. If it raises, the
            error is counted and serving continues.
        compare: ``compare(primary_action, candidate_action) -> bool`` (agreement); exact
            equality by default.
        max_log: how many recent decisions :attr:`log` keeps (older ones are dropped; the
            counts cover all of them).

    >>> shadow = ShadowDeployment(lambda obs: 1, lambda obs: 2 if obs[0] > 0 else 1)
    >>> [shadow.act([x]) for x in (-1.0, 1.0)]
    [1, 1]
    >>> shadow.decisions, shadow.agreement_rate
    (2, 0.5)
    """

    def __init__(
        self,
        primary: Policy,
        candidate: Policy,
        *,
        compare: Callable[[Any, Any], bool] = _actions_equal,
        max_log: int = 1000,
    ) -> None:
        for name, fn in (("primary", primary), ("candidate", candidate), ("compare", compare)):
            if not callable(fn):
                raise TypeError(f"{name} must be callable, got {fn!r}")
        self.primary, self.candidate, self.compare = primary, candidate, compare
        self.log: deque[dict[str, Any]] = deque(maxlen=_positive_int("max_log", max_log))
        self.decisions = 0
        self.agreements = 0
        self.candidate_errors = 0

    def act(self, obs: Any) -> Any:
        """The primary's action for ``obs``; the candidate's is recorded alongside."""
        action = self.primary(obs)
        self.decisions += 1
        shadow_obs = obs.copy() if isinstance(obs, np.ndarray) else obs
        try:
            shadow_action = self.candidate(shadow_obs)
        except Exception as exc:  # the shadow must never break serving
            self.candidate_errors += 1
            self.log.append({"action": action, "shadow": None, "agree": False,
                             "error": f"{type(exc).__name__}: {exc}"})
            return action
        agree = bool(self.compare(action, shadow_action))
        self.agreements += agree
        self.log.append({"action": action, "shadow": shadow_action, "agree": agree, "error": None})
        return action

    __call__ = act

    @property
    def agreement_rate(self) -> float:
        """Share of decisions where the candidate agreed (NaN before the first decision)."""
        return self.agreements / self.decisions if self.decisions else math.nan


# --------------------------------------------------------------------------------------------
# Canary
# --------------------------------------------------------------------------------------------
def assign_fraction(key: str, salt: str = "") -> float:
    """A stable number in ``[0, 1)`` for ``key``, from SHA-256 (unlike ``hash()``, it is the
    same in every process). A key joins the canary when this is below the traffic fraction, so
    raising the fraction keeps every key already in it.

    >>> assign_fraction("account-7") == assign_fraction("account-7")
    True
    >>> 0 <= assign_fraction("account-7", salt="release-2") < 1
    True
    """
    if not isinstance(key, str) or not isinstance(salt, str):
        raise TypeError(f"key and salt must be strings, got {type(key).__name__} and {type(salt).__name__}")
    digest = hashlib.sha256(f"{salt}\x00{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


@dataclass(frozen=True)
class Guard:
    """A metric the canary must keep within a bound.

    Args:
        metric: name of a value passed to :meth:`Canary.record`.
        bound: the limit on the statistic.
        direction: ``"at_most"`` (statistic <= bound) or ``"at_least"`` (statistic >= bound).
        min_samples: canary records needed before the guard may judge (no verdict on noise).
        relative: judge ``canary mean - control mean`` instead of the canary mean alone (needs
            ``min_samples`` records in the control arm too).
    """

    metric: str
    bound: float
    direction: str = "at_most"
    min_samples: int = 30
    relative: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.metric, str) or not self.metric:
            raise ValueError(f"metric must be a non-empty string, got {self.metric!r}")
        if isinstance(self.bound, bool) or not isinstance(self.bound, (int, float)) or not math.isfinite(self.bound):
            raise ValueError(f"bound must be a finite number, got {self.bound!r}")
        if self.direction not in ("at_most", "at_least"):
            raise ValueError(f"direction must be 'at_most' or 'at_least', got {self.direction!r}")
        _positive_int("min_samples", self.min_samples)
        if not isinstance(self.relative, bool):
            raise ValueError(f"relative must be a boolean, got {self.relative!r}")

    def holds(self, statistic: float) -> bool:
        """Whether ``statistic`` respects the bound."""
        return statistic <= self.bound if self.direction == "at_most" else statistic >= self.bound


class _RunningMean:
    """Count and mean in O(1) memory."""

    __slots__ = ("n", "mean")

    def __init__(self) -> None:
        self.n, self.mean = 0, 0.0

    def add(self, x: float) -> None:
        self.n += 1
        self.mean += (x - self.mean) / self.n


class Canary:
    """Route a growing share of traffic to ``candidate`` while guards hold; roll back if not.

    Args:
        control: the current production policy.
        candidate: the new policy under test.
        guards: the :class:`Guard` metrics; every :meth:`record` of the canary arm re-judges them.
        ramp: increasing traffic fractions in ``(0, 1]``, one per stage.
        stage_samples: canary records per stage before moving to the next fraction; after the
            last stage the candidate is promoted (fraction 1).
        salt: mixed into the hash, so each release draws a fresh set of canary keys.
        max_events: how many state changes :attr:`events` keeps.

    State is ``"running"``, ``"rolled_back"`` (fraction 0: everything goes to control) or
    ``"promoted"`` (fraction 1).

    >>> canary = Canary(lambda obs: 0, lambda obs: 2, guards=[Guard("loss", 1.0, min_samples=3)],
    ...                 ramp=(0.5,), stage_samples=3)
    >>> for _ in range(3):
    ...     _ = canary.record("canary", {"loss": 5.0})
    >>> canary.state, canary.fraction, canary.events[-1]["reason"]
    ('rolled_back', 0.0, 'loss: canary mean 5 breaches at_most 1 after 3 samples')
    """

    def __init__(
        self,
        control: Policy,
        candidate: Policy,
        *,
        guards: Sequence[Guard],
        ramp: Sequence[float] = (0.05, 0.25, 0.5),
        stage_samples: int = 100,
        salt: str = "canary",
        max_events: int = 100,
    ) -> None:
        if not callable(control) or not callable(candidate):
            raise TypeError("control and candidate must be callables policy(obs) -> action")
        guards = list(guards)
        if not guards or not all(isinstance(g, Guard) for g in guards):
            raise ValueError("guards must be a non-empty sequence of Guard objects")
        ramp = [float(f) for f in ramp]
        if not ramp or any(not 0 < f <= 1 for f in ramp) or any(b <= a for a, b in zip(ramp, ramp[1:])):
            raise ValueError(f"ramp must be strictly increasing fractions in (0, 1], got {ramp!r}")
        if not isinstance(salt, str):
            raise TypeError(f"salt must be a string, got {type(salt).__name__}")
        self.control, self.candidate = control, candidate
        self.guards = guards
        self.ramp = tuple(ramp)
        self.stage_samples = _positive_int("stage_samples", stage_samples)
        self.salt = salt
        self.stage = 0
        self.state = "running"
        self._stage_count = 0
        self._stats = {arm: {g.metric: _RunningMean() for g in guards} for arm in ("control", "canary")}
        self.events: deque[dict[str, Any]] = deque(maxlen=_positive_int("max_events", max_events))
        self._event("started", f"fraction {self.ramp[0]:g}")

    @property
    def fraction(self) -> float:
        """The traffic share the candidate receives now."""
        if self.state == "rolled_back":
            return 0.0
        if self.state == "promoted":
            return 1.0
        return self.ramp[self.stage]

    def arm_for(self, key: str) -> str:
        """``"canary"`` or ``"control"`` for ``key``; the same key always gets the same arm at a
        given fraction, and stays in the canary as the fraction grows."""
        return "canary" if assign_fraction(key, self.salt) < self.fraction else "control"

    def act(self, key: str, obs: Any) -> tuple[Any, str]:
        """The action for ``obs`` from the arm ``key`` is assigned to, and that arm."""
        arm = self.arm_for(key)
        policy = self.candidate if arm == "canary" else self.control
        return policy(obs), arm

    def _event(self, kind: str, reason: str) -> None:
        self.events.append({"event": kind, "stage": self.stage, "fraction": self.fraction,
                            "samples": self.samples("canary"), "reason": reason})

    def samples(self, arm: str) -> int:
        """Records received for ``arm`` (the most-recorded guard metric)."""
        return max(s.n for s in self._stats[arm].values())

    def statistic(self, guard: Guard) -> tuple[float, int]:
        """The value ``guard`` judges and the canary sample count behind it (NaN when the arm has
        no data yet)."""
        canary = self._stats["canary"][guard.metric]
        if canary.n == 0:
            return math.nan, 0
        if not guard.relative:
            return canary.mean, canary.n
        control = self._stats["control"][guard.metric]
        return (canary.mean - control.mean if control.n else math.nan), canary.n

    def breached(self) -> list[str]:
        """Reasons for every guard that has enough samples and is outside its bound."""
        reasons = []
        for guard in self.guards:
            value, n = self.statistic(guard)
            enough = n >= guard.min_samples and (
                not guard.relative or self._stats["control"][guard.metric].n >= guard.min_samples
            )
            if enough and not guard.holds(value):
                what = "canary - control" if guard.relative else "canary mean"
                reasons.append(f"{guard.metric}: {what} {value:.4g} breaches {guard.direction} "
                               f"{guard.bound:g} after {n} samples")
        return reasons

    def record(self, arm: str, metrics: dict[str, float]) -> str:
        """Add one observation of the guard metrics for ``arm``; return the state.

        Canary records re-judge the guards: a breach rolls back at once; otherwise, when the
        stage has ``stage_samples`` records and every guard has enough samples, the ramp moves
        on (or, after the last stage, the candidate is promoted). Records after rollback or
        promotion are ignored. Raises ``ValueError`` for an unknown arm, an unknown metric or a
        non-finite value (nothing is recorded then).
        """
        if arm not in ("control", "canary"):
            raise ValueError(f"arm must be 'control' or 'canary', got {arm!r}")
        if not isinstance(metrics, dict):
            raise TypeError(f"metrics must be a dict of metric name -> number, got {type(metrics).__name__}")
        known = self._stats[arm]
        for name, value in metrics.items():
            if name not in known:
                raise ValueError(f"unknown metric {name!r}; guarded metrics: {sorted(known)}")
            if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) \
                    or not math.isfinite(value):
                raise ValueError(f"metric {name!r} must be a finite number, got {value!r}")
        if self.state != "running":
            return self.state
        for name, value in metrics.items():
            known[name].add(float(value))
        if arm == "canary":
            self._stage_count += 1
            reasons = self.breached()
            if reasons:
                self.state = "rolled_back"
                self._event("rolled_back", "; ".join(reasons))
            elif self._stage_count >= self.stage_samples and self._guards_have_samples():
                self._stage_count = 0
                if self.stage + 1 < len(self.ramp):
                    self.stage += 1
                    self._event("ramped", f"fraction {self.ramp[self.stage]:g}")
                else:
                    self.state = "promoted"
                    self._event("promoted", "every stage passed its guards")
        return self.state

    def _guards_have_samples(self) -> bool:
        return all(
            self._stats["canary"][g.metric].n >= g.min_samples
            and (not g.relative or self._stats["control"][g.metric].n >= g.min_samples)
            for g in self.guards
        )


# --------------------------------------------------------------------------------------------
# Fallback chain
# --------------------------------------------------------------------------------------------
class AllPoliciesFailed(RuntimeError):
    """Every policy of a :class:`FallbackChain` failed or was skipped for one observation."""


@dataclass(frozen=True)
class Decision:
    """One decision of a :class:`FallbackChain`: the action, which policy gave it, what failed."""

    action: Any
    source: str
    seconds: float
    failures: tuple[str, ...] = ()


class FallbackChain:
    """Try policies in order (primary, previous model, rule-based) until one answers in time.

    Args:
        policies: ``(name, policy)`` pairs, best first; the last is the last resort (typically a
            rule-based policy) and has no breaker.
        latency_budget_s: a call slower than this counts as a failure and its (late) action is
            discarded; ``None`` for no budget.
        is_valid: ``is_valid(action) -> bool`` (e.g. ``env.action_space.contains``); an invalid
            action counts as a failure.
        failure_threshold, cooldown_s: settings of each policy's
            :class:`~rl_best_practices.circuit.CircuitBreaker`.
        clock: seconds, for latency and the breakers (``time.perf_counter`` by default).

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
    ) -> None:
        policies = list(policies)
        if not policies:
            raise ValueError("policies must hold at least one (name, policy) pair")
        names = []
        for pair in policies:
            if not (isinstance(pair, tuple) and len(pair) == 2 and isinstance(pair[0], str) and callable(pair[1])):
                raise ValueError(f"each policy must be a (name, callable) pair, got {pair!r}")
            names.append(pair[0])
        if len(set(names)) != len(names):
            raise ValueError(f"policy names must be unique, got {names}")
        if latency_budget_s is not None and (
            isinstance(latency_budget_s, bool) or not isinstance(latency_budget_s, (int, float))
            or not latency_budget_s > 0 or not math.isfinite(latency_budget_s)
        ):
            raise ValueError(f"latency_budget_s must be None or a finite number > 0, got {latency_budget_s!r}")
        if is_valid is not None and not callable(is_valid):
            raise TypeError("is_valid must be None or a callable action -> bool")
        if not callable(clock):
            raise TypeError("clock must be a callable returning seconds")
        self.policies = policies
        self.latency_budget_s = latency_budget_s
        self.is_valid = is_valid
        self.clock = clock
        self.breakers = {
            name: CircuitBreaker(failure_threshold, cooldown_s, clock=clock) for name, _ in policies[:-1]
        }
        self.counts = {name: 0 for name in names}
        self.failures = {name: 0 for name in names}
        self.log: deque[Decision] = deque(maxlen=_positive_int("max_log", max_log))

    def _try(self, name: str, policy: Policy, obs: Any) -> tuple[bool, Any, str]:
        start = self.clock()
        try:
            action = policy(obs)
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

    def decide(self, obs: Any) -> Decision:
        """Ask each policy in turn; return the first good answer as a :class:`Decision`.

        Raises :class:`AllPoliciesFailed` (listing every failure) if even the last one fails.
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
                decision = Decision(action, name, self.clock() - start, tuple(failures))
                self.log.append(decision)
                return decision
            self.failures[name] += 1
            failures.append(why)
        raise AllPoliciesFailed("every policy failed: " + "; ".join(failures))

    def __call__(self, obs: Any) -> Any:
        """The action alone, so the chain is itself a policy ``obs -> action``."""
        return self.decide(obs).action


# --------------------------------------------------------------------------------------------
# Model registry
# --------------------------------------------------------------------------------------------
STAGES = ("candidate", "canary", "production", "archived")
TRANSITIONS = {
    "candidate": ("canary", "archived"),
    "canary": ("production", "archived"),
    "production": ("archived",),
    "archived": ("production",),  # a rollback restores an archived production model
}
REGISTRY_KIND = "model_registry"


def config_hash(config: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of ``config``: the same hash as lesson 04's configs.

    >>> config_hash({"lr": 3e-4, "seed": 0}) == config_hash({"seed": 0, "lr": 3e-4})
    True
    """
    if not isinstance(config, dict):
        raise TypeError(f"config must be a dict, got {type(config).__name__}")
    return json_sha256(config)


@dataclass(frozen=True)
class ModelVersion:
    """One registered model: version number, stage, lineage and its stage history."""

    version: int
    stage: str
    config: dict[str, Any]
    config_hash: str
    metrics: dict[str, float]
    artifact: str | None
    history: tuple[tuple[str, float, str], ...] = field(default=())  # (stage, when, reason)


class ModelRegistry:
    """Model versions kept in one JSON file, rewritten atomically on every change.

    Args:
        path: the registry file; read if it exists.
        clock: seconds since the epoch for the stage history (``time.time`` by default).

    At most one version is in production; promoting another archives the previous one, which
    :meth:`rollback` can restore.

    >>> import tempfile, pathlib
    >>> reg = ModelRegistry(pathlib.Path(tempfile.mkdtemp()) / "registry.json", clock=lambda: 0.0)
    >>> v1 = reg.register({"lr": 3e-4}, {"return": 12.0}); reg.promote(v1.version, "canary")
    >>> reg.promote(v1.version, "production"); reg.production().version
    1
    >>> ModelRegistry(reg.path).get(1).stage      # read back from disk
    'production'
    """

    def __init__(self, path: str | os.PathLike, clock: Callable[[], float] = time.time) -> None:
        if not callable(clock):
            raise TypeError("clock must be a callable returning seconds since the epoch")
        self.path = Path(path)
        self.clock = clock
        self._versions: dict[int, ModelVersion] = {}
        if self.path.exists():
            self._versions = self._read()

    def _read(self) -> dict[int, ModelVersion]:
        data = read_json(self.path, kind=REGISTRY_KIND)
        if not isinstance(data.get("versions"), list):
            raise ValueError(f"{self.path}: 'versions' must be a list of model versions")
        versions = {}
        for raw in data["versions"]:
            try:
                mv = ModelVersion(**{**raw, "history": tuple(tuple(h) for h in raw["history"])})
            except (TypeError, KeyError) as exc:
                raise ValueError(f"{self.path}: malformed model version {raw!r}: {exc}") from None
            if mv.stage not in STAGES or mv.config_hash != config_hash(mv.config) or mv.version in versions:
                raise ValueError(f"{self.path}: inconsistent model version {mv.version!r} "
                                 "(unknown stage, altered config or duplicate number)")
            versions[mv.version] = mv
        return versions

    def _write(self, versions: dict[int, ModelVersion]) -> None:
        atomic_write_json(self.path, {"kind": REGISTRY_KIND,
                                      "versions": [asdict(v) for v in versions.values()]})
        self._versions = versions  # only after the file is safely written

    def register(self, config: dict[str, Any], metrics: dict[str, float], artifact: str | None = None) -> ModelVersion:
        """Add a new version in stage ``"candidate"`` and return it."""
        digest = config_hash(config)
        if not isinstance(metrics, dict) or not all(
            isinstance(k, str) and isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
            for k, v in metrics.items()
        ):
            raise ValueError(f"metrics must map names to finite numbers, got {metrics!r}")
        if artifact is not None and not isinstance(artifact, str):
            raise TypeError(f"artifact must be a path string or None, got {type(artifact).__name__}")
        number = max(self._versions, default=0) + 1
        mv = ModelVersion(number, "candidate", json.loads(json.dumps(config)), digest,
                          {k: float(v) for k, v in metrics.items()}, artifact,
                          (("candidate", float(self.clock()), "registered"),))
        self._write({**self._versions, number: mv})
        return mv

    def get(self, version: int) -> ModelVersion:
        """A copy of the version numbered ``version`` (``KeyError`` listing the known ones if
        absent); editing the copy never changes the registry."""
        if version not in self._versions:
            raise KeyError(f"no model version {version!r}; known versions: {sorted(self._versions)}")
        return copy.deepcopy(self._versions[version])

    def versions(self, stage: str | None = None) -> list[ModelVersion]:
        """Copies of all versions, or of those in ``stage``, oldest first."""
        if stage is not None and stage not in STAGES:
            raise ValueError(f"unknown stage {stage!r}; stages: {list(STAGES)}")
        return [copy.deepcopy(v) for v in self._versions.values() if stage is None or v.stage == stage]

    def production(self) -> ModelVersion | None:
        """The version in production, if any."""
        found = self.versions("production")
        return found[0] if found else None

    def promote(self, version: int, stage: str, reason: str = "") -> None:
        """Move ``version`` to ``stage`` along the allowed transitions
        (candidate -> canary -> production -> archived; archived -> production on rollback).
        Entering production archives the current production version."""
        if stage not in STAGES:
            raise ValueError(f"unknown stage {stage!r}; stages: {list(STAGES)}")
        current = self.get(version)
        if stage not in TRANSITIONS[current.stage]:
            raise ValueError(f"cannot move version {version} from {current.stage!r} to {stage!r}; "
                             f"allowed: {list(TRANSITIONS[current.stage])}")
        now = float(self.clock())
        versions = dict(self._versions)
        if stage == "production":
            for v in self.versions("production"):
                versions[v.version] = _moved(v, "archived", now, f"replaced by version {version}")
        versions[version] = _moved(current, stage, now, reason)
        self._write(versions)

    def rollback(self, reason: str = "rollback") -> ModelVersion:
        """Archive the production version and restore the one it replaced; return the restored one."""
        current = self.production()
        if current is None:
            raise ValueError("nothing in production to roll back")
        previous = [v for v in self.versions("archived")
                    if any(s == "production" for s, _, _ in v.history)]
        previous = [v for v in previous if v.version != current.version]
        if not previous:
            raise ValueError("no earlier production version to roll back to")
        target = max(previous, key=lambda v: (v.history[-1][1], v.version))
        self.promote(target.version, "production", reason)
        return self.get(target.version)


def _moved(v: ModelVersion, stage: str, when: float, reason: str) -> ModelVersion:
    return ModelVersion(v.version, stage, v.config, v.config_hash, v.metrics, v.artifact,
                        v.history + ((stage, when, reason),))
