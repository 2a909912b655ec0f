"""Lesson 06's deployment patterns behind a real endpoint, on Ray Serve.

* :class:`PolicyDeployment`: one policy per Serve deployment, built in its replica by a
  zero-argument factory (``lambda: rllib.greedy_policy(rllib.restore(path))`` restores an RLlib
  checkpoint; any ``policy(obs) -> action`` works), answering with its model version.
* :class:`CanaryRouter`: the HTTP entry point. A JSON request ``{"key": ..., "obs": [...],
  "state": {...}}`` is checked, assigned to an arm by the package's
  :class:`~rl_best_practices.deployment.Canary` (sticky SHA-256 of the key), answered through a
  :class:`~rl_best_practices.deployment.FallbackChain` (candidate, then production, then a safe
  action; each call has a deadline and a circuit breaker) and, when a
  :class:`~rl_best_practices.safety.SafetyLayer` is given, filtered by it. The answer is JSON:
  ``{"action", "arm", "source", "model_version"}``. Bad input gets a 400 with the package's
  error message and the server keeps serving. Guard metrics recorded through the router can
  roll the canary back or promote it, and an operator can roll back by hand: routing changes
  at once, without restarting anything.
* :func:`serve_canary`: start Serve on 127.0.0.1 (or on the cluster named by ``RAY_ADDRESS``,
  through :func:`~rl_best_practices.rllib.runtime.start_ray`) and run the application; returns a
  :class:`CanaryService` (its URL, status, record, rollback, shutdown).

The same application runs unchanged on a cluster: start Ray there, set ``RAY_ADDRESS`` and call
:func:`serve_canary`; raise ``num_replicas`` to spread the policies over its machines.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
from ray import serve
from starlette.requests import Request
from starlette.responses import JSONResponse

from rl_best_practices.deployment import Canary, FallbackChain, Guard
from rl_best_practices.errors import (
    AllPoliciesFailedError,
    Error,
    InvalidValueError,
    NoSafeActionError,
)
from rl_best_practices.validation import check_array, check_callable, check_int, check_text

__all__ = ["CanaryRouter", "CanaryService", "PolicyDeployment", "serve_canary"]


@serve.deployment(ray_actor_options={"num_cpus": 0})
class PolicyDeployment:
    """One policy in its own replica: ``make_policy()`` builds it there; calls return
    ``policy(obs)`` as a plain Python value."""

    def __init__(self, make_policy: Callable[[], Callable[[Any], Any]]) -> None:
        self.policy = check_callable("policy", make_policy())

    def __call__(self, obs: list[float]) -> Any:
        action = self.policy(np.asarray(obs, dtype=np.float32))
        return action.item() if isinstance(action, np.generic) else action


def _parse(body: bytes, obs_dim: int, needs_state: bool) -> tuple[str, np.ndarray, dict]:
    """The request's key, observation and state, or an error naming what is wrong."""
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidValueError(f"the request body must be JSON: {exc}") from None
    if not isinstance(data, dict) or not {"key", "obs"} <= set(data):
        raise InvalidValueError('the request must be a JSON object with "key" and "obs"')
    key = check_text("key", data["key"])
    obs = check_array("obs", data["obs"], ndim=1)
    if obs.shape != (obs_dim,):
        raise InvalidValueError(f"obs must hold {obs_dim} numbers, got {obs.size}")
    state = data.get("state", {})
    if not isinstance(state, dict) or (needs_state and not state):
        raise InvalidValueError('"state" must be an object with what the safety layer reads, '
                                'e.g. {"position": 0.0}')
    for name, value in state.items():
        if not isinstance(value, (int, float)) or isinstance(value, bool) \
                or not math.isfinite(value):
            raise InvalidValueError(f'state["{name}"] must be a finite number, got {value!r}')
    return key, obs, state


@serve.deployment(ray_actor_options={"num_cpus": 0})
class CanaryRouter:
    """The HTTP entry point: canary assignment, fallback chain, safety layer (see the module
    docstring). Other methods are for an operator, through the application's handle."""

    def __init__(self, production: Any, candidate: Any, settings: dict[str, Any]) -> None:
        self.settings = settings
        self.versions = settings["versions"]
        budget = settings["latency_budget_s"]

        def served(handle: Any) -> Callable[[Any], Any]:
            return lambda obs: handle.remote(obs.tolist()).result(timeout_s=budget)

        safe = settings["safe_action"]
        common = {"latency_budget_s": budget, "is_valid": settings["is_valid"],
                  "failure_threshold": settings["failure_threshold"],
                  "cooldown_s": settings["cooldown_s"]}
        self.chains = {
            "canary": FallbackChain([("candidate", served(candidate)),
                                     ("production", served(production)),
                                     ("safe", lambda obs: safe)], **common),
            "control": FallbackChain([("production", served(production)),
                                      ("safe", lambda obs: safe)], **common),
        }
        self.canary = Canary(self.chains["control"], self.chains["canary"],
                             guards=settings["guards"], ramp=settings["ramp"],
                             stage_samples=settings["stage_samples"],
                             max_stage_samples=settings["max_stage_samples"],
                             salt=settings["salt"])
        self.safety = settings["safety"]
        self.requests = 0
        self.rejected = 0
        # the chains and the canary keep counters and breakers: one decision at a time
        self._lock = threading.Lock()

    def decide(self, key: str, obs: np.ndarray, state: dict[str, float]) -> dict[str, Any]:
        """The arm for ``key``, the chain's answer for ``obs``, filtered by the safety layer."""
        with self._lock:
            arm = self.canary.arm_for(key)
            decision = self.chains[arm].decide(obs)
            action = decision.action
            if self.safety is not None:
                action = self.safety.filter_discrete(action, state, self.settings["trades"])
        return {"action": action, "arm": arm, "source": decision.source,
                "model_version": self.versions.get(decision.source)}

    async def __call__(self, request: Request) -> JSONResponse:
        self.requests += 1
        try:
            key, obs, state = _parse(await request.body(), self.settings["obs_dim"],
                                     self.safety is not None)
        except Error as exc:
            self.rejected += 1
            return JSONResponse({"error": str(exc)}, status_code=400)
        try:  # off the event loop: the chain waits for the policies' replicas
            return JSONResponse(await asyncio.to_thread(self.decide, key, obs, state))
        except (AllPoliciesFailedError, NoSafeActionError) as exc:  # say so, keep serving
            return JSONResponse({"error": str(exc)}, status_code=503)

    def record(self, arm: str, metrics: dict[str, float]) -> str:
        """Feed guard metrics to the canary; returns its state (routing follows it)."""
        with self._lock:
            return self.canary.record(arm, metrics)

    def rollback(self, reason: str) -> str:
        """An operator's rollback: every key goes to production from the next request on."""
        with self._lock:
            return self.canary.rollback(reason)

    def status(self) -> dict[str, Any]:
        """Canary state and fraction, requests, rejected requests and who answered."""
        chains = {arm: {"counts": dict(c.counts), "failures": dict(c.failures)}
                  for arm, c in self.chains.items()}
        return {"state": self.canary.state, "fraction": self.canary.fraction,
                "events": list(self.canary.events), "requests": self.requests,
                "rejected": self.rejected, "chains": chains}


def _result(response: Any) -> Any:
    """The value of a Serve response, waited for in a helper thread: Serve refuses to block a
    running event loop, and a Jupyter kernel runs one."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(response.result).result()


@dataclass
class CanaryService:
    """A running canary application: its URL and the router's operator methods."""

    url: str
    name: str
    router: Any

    def status(self) -> dict[str, Any]:
        """The router's :meth:`CanaryRouter.status`."""
        return _result(self.router.status.remote())

    def record(self, arm: str, metrics: dict[str, float]) -> str:
        """Report guard metrics for ``arm``; returns the canary's state."""
        return _result(self.router.record.remote(arm, metrics))

    def rollback(self, reason: str) -> str:
        """Roll back by hand; returns the canary's state."""
        return _result(self.router.rollback.remote(reason))

    def shutdown(self) -> None:
        """Delete the application (Serve itself keeps running until ``serve.shutdown()``)."""
        serve.delete(self.name)


def serve_canary(
    production: Callable[[], Callable[[Any], Any]],
    candidate: Callable[[], Callable[[Any], Any]],
    *,
    versions: dict[str, int],
    guards: Sequence[Guard],
    obs_dim: int,
    safe_action: Any,
    is_valid: Callable[[Any], bool] | None = None,
    ramp: Sequence[float] = (0.05, 0.25, 0.5),
    stage_samples: int = 100,
    max_stage_samples: int | None = None,
    salt: str = "canary",
    safety: Any = None,
    trades: Sequence[float] | None = None,
    latency_budget_s: float = 0.5,
    failure_threshold: int = 3,
    cooldown_s: float = 30.0,
    host: str = "127.0.0.1",
    port: int = 8000,
    name: str = "canary",
) -> CanaryService:
    """Run production and candidate as Serve deployments behind a :class:`CanaryRouter` at
    ``http://{host}:{port}/{name}``; Ray must be started (``rllib.start_ray``). The default host
    is loopback; on a cluster, pass the address clients reach.

    ``production`` and ``candidate`` are factories run in their replicas; ``versions`` maps
    ``"production"`` and ``"candidate"`` to model versions; ``guards``, ``ramp``,
    ``stage_samples``, ``max_stage_samples`` and ``salt`` configure the
    :class:`~rl_best_practices.deployment.Canary`; ``safe_action`` answers when both policies
    fail; ``safety`` (a :class:`~rl_best_practices.safety.SafetyLayer`) with ``trades`` filters
    each action by ``filter_discrete``, reading the request's ``state``.
    """
    check_callable("production", production)
    check_callable("candidate", candidate)
    if set(versions) != {"production", "candidate"}:
        raise InvalidValueError(f'versions must name "production" and "candidate", got '
                                f"{sorted(versions)}")
    if safety is not None and trades is None:
        raise InvalidValueError("a safety layer needs trades: the trade of each discrete action")
    settings = {"versions": dict(versions), "guards": list(guards), "ramp": tuple(ramp),
                "stage_samples": stage_samples, "max_stage_samples": max_stage_samples,
                "salt": salt, "obs_dim": check_int("obs_dim", obs_dim, minimum=1),
                "safe_action": safe_action, "is_valid": is_valid, "safety": safety,
                "trades": list(trades) if trades is not None else None,
                "latency_budget_s": latency_budget_s, "failure_threshold": failure_threshold,
                "cooldown_s": cooldown_s}
    check_text("name", name)
    Canary(len, len, guards=settings["guards"], ramp=settings["ramp"],  # refuse bad settings here
           stage_samples=stage_samples, max_stage_samples=max_stage_samples, salt=salt)
    quiet = logging.getLogger("ray.serve")  # Serve's INFO lines carry times and addresses
    quiet.setLevel(logging.WARNING)
    serve.start(http_options={"host": check_text("host", host),
                              "port": check_int("port", port, minimum=1)},
                logging_config={"log_level": "WARNING"})
    quiet.setLevel(logging.WARNING)  # serve.start configures the logger again
    app = CanaryRouter.bind(PolicyDeployment.options(name="production").bind(production),
                            PolicyDeployment.options(name="candidate").bind(candidate),
                            settings)
    router = serve.run(app, name=name, route_prefix=f"/{name}")
    return CanaryService(url=f"http://{host}:{port}/{name}", name=name, router=router)
