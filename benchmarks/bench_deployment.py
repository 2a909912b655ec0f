"""Cost of the deployment patterns per decision, against calling the policy directly (same run).

The policy is a small NumPy network the size of the course's PPO model (5 -> 64 -> 64 -> 3), so
the figures show the wrapper's overhead on a realistic call rather than on an empty function;
calling that policy directly is the alternative a practitioner has (no wrapper at all). Targets,
fixed before measuring, count policy calls: a wrapper that makes one call should cost at most
one more (2x direct); the shadow makes two calls and logs (3x). A deadline costs a hand-off to
a worker thread; its target, 20x a 5 µs call (about 100 µs, 0.2% of the 50 ms deadline lesson 06
gives its chain), keeps it a small share of a decision that must answer within milliseconds.
"""

import numpy as np

from rl_best_practices.deployment import Canary, FallbackChain, Guard, ShadowDeployment
from rl_best_practices.envs import MarketEnv

from common import Row, per_call_seconds

CALLS = 5_000


def mlp_policy(seed: int):
    rng = np.random.default_rng(seed)
    w1, w2, w3 = (rng.normal(size=s) * 0.3 for s in ((5, 64), (64, 64), (64, 3)))

    def act(obs: np.ndarray) -> int:
        h = np.tanh(obs @ w1)
        return int(np.argmax(np.tanh(h @ w2) @ w3))

    return act


def run() -> list[Row]:
    env = MarketEnv()
    obs, _ = env.reset(seed=0)
    policy, previous = mlp_policy(0), mlp_policy(1)
    chain = FallbackChain([("primary", policy), ("previous", previous), ("rules", lambda o: 1)],
                          is_valid=env.action_space.contains)
    deadline_chain = FallbackChain([("primary", policy), ("previous", previous),
                                    ("rules", lambda o: 1)],
                                   latency_budget_s=0.01, is_valid=env.action_space.contains)
    shadow = ShadowDeployment(policy, previous)
    canary = Canary(previous, policy, guards=[Guard("pnl", -1.0, "at_least")], ramp=(0.5,))
    keys = iter(f"account-{n}" for n in range(10**9))

    direct = per_call_seconds(lambda: policy(obs), CALLS)
    rows = []
    for figure, fn, target, why in [
        ("fallback chain decision (breaker, action check; no deadline)",
         lambda: chain.decide(obs), 2.0, "one policy call + at most one more"),
        ("fallback chain decision with a 10 ms deadline (worker thread)",
         lambda: deadline_chain.decide(obs), 20.0, "about 100 µs, 0.2% of lesson 06's 50 ms"),
        ("canary routing (SHA-256 of the key) + decision",
         lambda: canary.act(next(keys), obs), 2.0, "one policy call + at most one more"),
        ("shadow decision (primary + candidate + log)", lambda: shadow.act(obs), 3.0,
         "two policy calls + at most one more"),
    ]:
        seconds = per_call_seconds(fn, CALLS)
        ratio = seconds / direct
        rows.append(Row(
            figure=figure,
            value=f"{seconds * 1e6:.1f} µs",
            baseline=f"policy called directly {direct * 1e6:.1f} µs",
            ratio=ratio,
            target=f"≤ {target:g}x direct ({why})",
            met=ratio <= target,
        ))
    served = deadline_chain.counts["primary"] / sum(deadline_chain.counts.values())
    rows[1].value += f" (primary served {100 * served:.2f}%; the rest missed the 10 ms deadline)"
    return rows
