"""RewardShaper per-step cost against the per-step overhead of Gymnasium's NormalizeReward.

Also: memory stays flat over a million steps (traced with tracemalloc).
"""

import tracemalloc

import gymnasium as gym
import numpy as np
from gymnasium.wrappers import NormalizeReward

from rl_best_practices.rewards import RewardShaper

from common import Row, per_call_seconds

STEPS = 20_000
WEIGHTS = {"sharpe_bonus": 0.5, "drawdown_penalty": 1.0, "turnover_cost": 2.0}
COMPONENTS = {"sharpe_bonus": 0.4, "drawdown_penalty": -0.2, "turnover_cost": -0.05}


def cartpole_step_seconds(wrap: bool) -> float:
    env = gym.make("CartPole-v1")
    if wrap:
        env = NormalizeReward(env)
    env.reset(seed=0)

    def step():
        _, _, terminated, truncated, _ = env.step(0)
        if terminated or truncated:
            env.reset()

    return per_call_seconds(step, STEPS)


def shaper_seconds() -> float:
    shaper = RewardShaper()
    rewards = np.random.default_rng(0).normal(0, 100, size=STEPS).tolist()
    it = iter(rewards * 10)
    return per_call_seconds(
        lambda: shaper.compute_shaped_reward(next(it), COMPONENTS, WEIGHTS), STEPS
    )


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
    # Interleave the two CartPole measurements so load changes affect both alike.
    bare = min(cartpole_step_seconds(False), cartpole_step_seconds(False))
    wrapped = min(cartpole_step_seconds(True), cartpole_step_seconds(True))
    overhead = wrapped - bare
    shaper = shaper_seconds()
    growth = memory_growth()
    return [
        Row(
            figure="RewardShaper.compute_shaped_reward (3 components, normalising)",
            value=f"{shaper * 1e6:.2f} µs/step",
            baseline=f"NormalizeReward overhead on a CartPole step {overhead * 1e6:.2f} µs",
            ratio=shaper / overhead,
            target="≤ 0.3x",
            met=shaper / overhead <= 0.3,
        ),
        Row(
            figure="RewardShaper memory, 1,000,000 steps",
            value=f"{growth:.3f}x the memory at 100,000 steps",
            baseline="memory at 100,000 steps",
            ratio=growth,
            target="flat (≤ 1.05x)",
            met=growth <= 1.05,
        ),
    ]
