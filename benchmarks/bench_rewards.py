"""Reward shaping's per-step overhead, as a wrapper, against Gymnasium's NormalizeReward.

Both wrap the same :class:`MarketEnv` and are timed per step, in turns with the bare env, so
each overhead is (wrapped step) − (bare step) measured in the same run:
:class:`ShapedRewardWrapper` with a return-scaling :class:`RewardShaper` (the same discounted-
return scaling NormalizeReward applies, gamma 0.95) and two components read from ``info``
(drawdown and turnover penalties), clipped and written back to ``info`` for logging, against
``NormalizeReward(gamma=0.95)``, which only scales. Target, fixed before measuring: the
shaper's overhead is at most one bare market step, so shaping at most doubles the cost of
sampling (and stays a fraction of a percent of PPO's ~0.8 ms of training per sampled step,
``bench_experiment``).

Also: the shaper's memory stays flat over a million steps (traced with tracemalloc).
"""

import tracemalloc

import numpy as np
from gymnasium.wrappers import NormalizeReward

from rl_best_practices.envs import MarketEnv
from rl_best_practices.rewards import RewardShaper, ShapedRewardWrapper

from common import Row, per_call_seconds

STEPS = 20_000
GAMMA = 0.95
WEIGHTS = {"sharpe_bonus": 0.5, "drawdown_penalty": 1.0, "turnover_cost": 2.0}
COMPONENTS = {"sharpe_bonus": 0.4, "drawdown_penalty": -0.2, "turnover_cost": -0.05}


def make_env(kind: str):
    env = MarketEnv({"episode_length": 200})
    if kind == "normalize":
        return NormalizeReward(env, gamma=GAMMA)
    if kind == "shaped":
        return ShapedRewardWrapper(
            env, RewardShaper(scale="return", gamma=GAMMA),
            components={"drawdown_penalty": lambda info: -info["drawdown"],
                        "turnover_cost": lambda info: -info["turnover"]},
            weights={"drawdown_penalty": 0.05, "turnover_cost": 0.1}, gamma=GAMMA)
    return env


def step_seconds(kind: str) -> float:
    """Seconds per step with seeded random actions, resetting when an episode ends."""
    env = make_env(kind)
    env.reset(seed=0)
    actions = iter(np.random.default_rng(0).integers(3, size=STEPS * 5).tolist())

    def step():
        _, _, terminated, truncated, _ = env.step(next(actions))
        if terminated or truncated:
            env.reset()

    return per_call_seconds(step, STEPS)


def memory_growth(steps: int = 1_000_000, checkpoint: int = 100_000) -> float:
    """Traced memory after ``steps`` divided by traced memory after ``checkpoint`` steps."""
    shaper = RewardShaper()
    tracemalloc.start()
    for i in range(steps):
        shaper.compute_shaped_reward(float(i % 97) - 48.0, COMPONENTS, WEIGHTS)
        if i + 1 == checkpoint:
            early = tracemalloc.get_traced_memory()[0]
    late = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return late / early


def run() -> list[Row]:
    # Take turns, best of three each, so load changes affect all three alike.
    best = {"bare": np.inf, "normalize": np.inf, "shaped": np.inf}
    for _ in range(3):
        for kind in best:
            best[kind] = min(best[kind], step_seconds(kind))
    shaped, normalize = best["shaped"] - best["bare"], best["normalize"] - best["bare"]
    growth = memory_growth()
    return [
        Row(
            figure=("ShapedRewardWrapper overhead per MarketEnv step (return scaling + 2 "
                    "components, info logged)"),
            value=f"{shaped * 1e6:.2f} µs/step",
            baseline=(f"NormalizeReward overhead on the same env {normalize * 1e6:.2f} µs/step "
                      f"(bare step {best['bare'] * 1e6:.2f} µs)"),
            ratio=shaped / normalize,
            target="≤ one bare env step (shaping at most doubles sampling)",
            met=shaped <= best["bare"],
        ),
        Row(
            figure="RewardShaper memory, 1,000,000 steps",
            value=f"{growth:.3f}x the memory at 100,000 steps",
            baseline="memory at 100,000 steps",
            ratio=growth,
            target="flat (≤ 1.05x: a leak of one float per step would be 10x)",
            met=growth <= 1.05,
        ),
    ]
