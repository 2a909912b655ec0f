"""Wall time for PPO, through the course helper, to beat the flat and random policies."""

import time

import numpy as np

from rl_best_practices import rllib
from rl_best_practices.envs import MarketEnv, evaluate_policy, flat_policy, random_policy

from common import Row

HELD_OUT = range(10_000, 10_050)  # seeds never used in training
BUDGET_S = 60.0
MAX_ITERATIONS = 30


def beats(returns: np.ndarray, baseline: np.ndarray) -> bool:
    """Mean return above the baseline's by more than two standard errors of the difference."""
    se = np.sqrt(returns.var(ddof=1) / len(returns) + baseline.var(ddof=1) / len(baseline))
    return returns.mean() - baseline.mean() > 2 * se


def run() -> list[Row]:
    env = MarketEnv()
    flat = evaluate_policy(flat_policy(env), HELD_OUT)
    rand = evaluate_policy(random_policy(env, seed=0), HELD_OUT)
    rllib.start_ray(num_cpus=2)
    algo = rllib.ppo_config(seed=0).build_algo()
    start, elapsed, ppo, iterations = time.perf_counter(), None, float("nan"), 0
    try:
        while iterations < MAX_ITERATIONS:
            rllib.train(algo, 1)
            iterations += 1
            returns = evaluate_policy(rllib.greedy_policy(algo), HELD_OUT)
            ppo = returns.mean()
            if beats(returns, flat) and beats(returns, rand):
                elapsed = time.perf_counter() - start  # includes the evaluations
                break
    finally:
        algo.stop()
        rllib.stop_ray()
    met = elapsed is not None and elapsed <= BUDGET_S
    value = "not within budget" if elapsed is None else f"{elapsed:.0f} s ({iterations} iterations)"
    return [
        Row(
            figure="PPO time to beat flat and random (held-out, by 2 s.e.)",
            value=f"{value}; return {ppo:.0f}",
            baseline=f"anchor {BUDGET_S:.0f} s; flat {flat.mean():.0f}, random {rand.mean():.0f}",
            ratio=None if elapsed is None else elapsed / BUDGET_S,
            target=f"≤ {BUDGET_S:.0f} s",
            met=met,
        )
    ]
