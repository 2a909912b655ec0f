"""Serving through Ray Serve on loopback against calling the policy in process (same run).

The application is lesson 06's canary behind its router: JSON over HTTP, the canary's sticky
assignment, a fallback chain with deadlines and the safety layer. Its target comes from the
market it serves: a decision must come back well inside a 100 ms tick, so p50 within 20 ms and
p99 within 50 ms one request at a time on this 2-core machine.
"""

import json
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import requests

from rl_best_practices import rllib
from rl_best_practices.deployment import Guard
from rl_best_practices.envs import MarketEnv
from rl_best_practices.rllib.serve import serve_canary
from rl_best_practices.safety import SafetyLayer, position_limit, reduce_position

from common import Row, per_call_seconds


def rule():
    return lambda obs: 2 if obs[0] > 0.5 else (0 if obs[0] < -0.5 else 1)


def tuned():
    return lambda obs: 2 if obs[0] > 0.1 else (0 if obs[0] < -0.1 else 1)


def payload(n: int) -> str:
    return json.dumps({"key": f"account-{n}", "obs": [0.3, 0.0, 0.0, 0.0, 0.0],
                       "state": {"position": 0.0}})


def timed(session: requests.Session, url: str, body: str) -> float:
    start = time.perf_counter()
    reply = session.post(url, data=body, timeout=30)
    reply.raise_for_status()
    return time.perf_counter() - start


def run() -> list[Row]:
    rllib.start_ray(num_cpus=2)
    from ray import serve

    try:
        service = serve_canary(
            rule, tuned, versions={"production": 1, "candidate": 2},
            guards=[Guard("pnl", -300.0, "at_least", relative=True)], obs_dim=5, safe_action=1,
            is_valid=MarketEnv().action_space.contains, ramp=(0.5,),
            safety=SafetyLayer(constraint_functions=[position_limit(100)],
                               fallback_policy=reduce_position(10)),
            trades=[-10.0, 0.0, 10.0], port=8766, name="bench")
        with requests.Session() as session:
            for n in range(20):  # warm the connections and the replicas
                timed(session, service.url, payload(n))
            one_at_a_time = np.array([timed(session, service.url, payload(n))
                                      for n in range(300)])
        with ThreadPoolExecutor(8) as pool:
            start = time.perf_counter()
            with requests.Session() as shared:
                list(pool.map(lambda n: timed(shared, service.url, payload(n)), range(400)))
            throughput = 400 / (time.perf_counter() - start)
    finally:
        serve.shutdown()
        rllib.stop_ray()
    policy, obs = rule(), np.array([0.3, 0.0, 0.0, 0.0, 0.0], dtype=np.float32)
    direct = per_call_seconds(lambda: policy(obs), 20_000)
    p50, p99 = np.percentile(one_at_a_time, [50, 99])
    return [
        Row(figure="decision through Ray Serve (HTTP on loopback, router + 2 policy "
                   "deployments), one request at a time",
            value=f"p50 {p50 * 1e3:.1f} ms, p99 {p99 * 1e3:.1f} ms",
            baseline=f"the policy called in process {direct * 1e6:.2f} µs",
            ratio=p50 / direct,
            target="p50 ≤ 20 ms and p99 ≤ 50 ms (inside a 100 ms market tick)",
            met=p50 <= 0.020 and p99 <= 0.050),
        Row(figure="throughput through Ray Serve, 8 concurrent clients",
            value=f"{throughput:.0f} requests/s",
            baseline=f"the policy called in process {1 / direct:,.0f} calls/s",
            ratio=throughput * direct,
            target="≥ 50 requests/s (one decision per account per tick for 5 accounts)",
            met=throughput >= 50),
    ]
