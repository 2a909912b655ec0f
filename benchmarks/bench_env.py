"""Market env step cost against CartPole's, both built with gym.make, in the same run."""

import gymnasium as gym

import rl_best_practices  # noqa: F401  (registers the market env)

from common import Row, per_call_seconds

STEPS = 20_000


def seconds_per_step(env_id: str, action) -> float:
    env = gym.make(env_id)
    env.reset(seed=0)

    def step():
        _, _, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            env.reset()

    return per_call_seconds(step, STEPS)


def run() -> list[Row]:
    market = seconds_per_step(rl_best_practices.ENV_ID, 1)
    cartpole = seconds_per_step("CartPole-v1", 1)
    ratio = market / cartpole
    return [
        Row(
            figure="market env step (gym.make, with reset every episode)",
            value=f"{market * 1e6:.1f} µs ({1 / market:,.0f} steps/s)",
            baseline=f"CartPole-v1 step {cartpole * 1e6:.1f} µs",
            ratio=ratio,
            target="≤ 2x CartPole",
            met=ratio <= 2.0,
        )
    ]
