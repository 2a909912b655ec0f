"""Market env step cost against CartPole's, both built with gym.make, in the same run.

Both take seeded random actions (drawn beforehand, so drawing costs neither env) and reset when
an episode ends, as a training loop would: CartPole's episodes under random actions last about
22 steps, the market's 200, so the anchor includes its share of resets. A constant "push right"
would end CartPole's episodes every ~9 steps and charge the anchor for twice as many resets. Target,
fixed before measuring: ≤ 2x CartPole-v1, the classic-control reference env a practitioner
would reach for, so that sampling costs about what it costs on the standard toy problem.
"""

import gymnasium as gym
import numpy as np

import rl_best_practices  # noqa: F401  (registers the market env)

from common import Row, per_call_seconds

STEPS = 20_000
REPEATS = 5


def seconds_per_step(env_id: str, seed: int) -> tuple[float, float]:
    """Best-of-``REPEATS`` seconds per step and the mean episode length, random actions."""
    env = gym.make(env_id)
    env.reset(seed=seed)
    n = int(env.action_space.n)
    actions = iter(np.random.default_rng(seed).integers(n, size=STEPS * REPEATS).tolist())
    episodes = [0]

    def step():
        _, _, terminated, truncated, _ = env.step(next(actions))
        if terminated or truncated:
            episodes[0] += 1
            env.reset()

    seconds = per_call_seconds(step, STEPS, repeats=REPEATS)
    return seconds, STEPS * REPEATS / max(episodes[0], 1)


def run() -> list[Row]:
    market, market_len = seconds_per_step(rl_best_practices.ENV_ID, 0)
    cartpole, cartpole_len = seconds_per_step("CartPole-v1", 0)
    ratio = market / cartpole
    return [
        Row(
            figure="market env step, seeded random actions (gym.make, reset when an episode ends)",
            value=f"{market * 1e6:.1f} µs ({1 / market:,.0f} steps/s; episodes {market_len:.0f} "
                  "steps)",
            baseline=(f"CartPole-v1 step, seeded random actions {cartpole * 1e6:.1f} µs "
                      f"(episodes {cartpole_len:.0f} steps)"),
            ratio=ratio,
            target="≤ 2x CartPole-v1 (the standard toy env)",
            met=ratio <= 2.0,
        )
    ]
