"""The learned reward at work: PPO on a Bradley-Terry reward against PPO on raw P&L.

The annotator's true utility is an episode's P&L minus its **maximum** drawdown, which the reward
model cannot see: its features are per-step quantities summed over the episode (P&L, drawdown,
turnover, position size), so it can only approximate the worst moment by the summed depth under
water. It is fitted on 1000 Bradley-Terry-noisy labels of varied trading episodes and turned into
a per-step reward through ``ppo_config(reward_weights=...)`` (the env's reward is the P&L, so the
other features are added with their weights relative to P&L's). Both arms train PPO with 5 seeds
on Ray Tune (``train_arms``) and are judged on 20 held-out days by the true utility.
"""

import numpy as np

from rl_best_practices.envs import MarketEnv
from rl_best_practices.evaluation import compare_seeds
from rl_best_practices.reward_model import FEATURE_NAMES, BradleyTerryRewardModel, random_pairs
from rl_best_practices.scenarios import SimulatedAnnotator

from common import Row

MAX_DRAWDOWN_PRICE = 1.0  # utility = P&L - this x maximum drawdown
SEEDS, HELD_OUT, ITERATIONS = (0, 1, 2, 3, 4), tuple(range(5000, 5020)), 8


def varied_episode(rng: np.random.Generator) -> np.ndarray:
    """Summed features of one episode of a randomly parametrised signal trader, then its
    maximum drawdown (the column the reward model does not get)."""
    threshold, cap, epsilon = rng.uniform(0.0, 1.5), rng.uniform(0.1, 1.0), rng.uniform(0, 0.6)
    env = MarketEnv()
    obs, _ = env.reset(seed=int(rng.integers(2**31)))
    total, worst, done = np.zeros(len(FEATURE_NAMES)), 0.0, False
    while not done:
        if rng.random() < epsilon:
            action = int(rng.integers(3))
        else:
            action = 2 if obs[0] > threshold and obs[1] < cap else (
                0 if obs[0] < -threshold and obs[1] > -cap else 1)
        obs, _, terminated, truncated, info = env.step(action)
        total += (info["pnl"], info["drawdown"], info["turnover"], abs(info["position"]))
        worst = max(worst, info["drawdown"])
        done = terminated or truncated
    return np.r_[total, worst]


def learned_reward() -> tuple[dict[str, float], float]:
    rng = np.random.default_rng(0)
    pool = np.array([varied_episode(rng) for _ in range(300)])
    person = SimulatedAnnotator(
        0.0, 0.0, np.random.default_rng(1), noise_model="bradley_terry", temperature=100.0,
        utility=lambda rows: rows[:, 0] - MAX_DRAWDOWN_PRICE * rows[:, 4],
    )
    a, b = random_pairs(pool[:200], 1000, rng)
    model = BradleyTerryRewardModel().fit(a[:, :4], b[:, :4], person.label(a, b))
    ta, tb = random_pairs(pool[200:], 2000, rng)
    agreement = model.agreement(ta[:, :4], tb[:, :4], person.true_label(ta, tb))
    w = model.weights_
    weights = {name: float(w[k] / w[0]) for k, name in enumerate(FEATURE_NAMES) if k > 0}
    return weights, agreement


def run() -> list[Row]:
    from rl_best_practices import rllib

    weights, agreement = learned_reward()
    arms = {
        "raw P&L": rllib.ppo_config(MarketEnv, hidden=(32, 32)),
        "learned reward": rllib.ppo_config(
            MarketEnv, hidden=(32, 32), reward_weights=weights,
            reward_components={"abs_position": lambda info: abs(info["position"])},
        ),
    }
    rllib.start_ray(num_cpus=2)
    try:
        runs = rllib.train_arms(arms, SEEDS, ITERATIONS, held_out_seeds=HELD_OUT)
    finally:
        rllib.stop_ray()

    def utility(label: str) -> np.ndarray:
        held = runs[label].held_out
        return (held["return"] - MAX_DRAWDOWN_PRICE * held["max_drawdown"]).mean(axis=1)

    on_truth = compare_seeds(utility("learned reward"), utility("raw P&L"))
    on_pnl = compare_seeds(runs["learned reward"].per_seed(), runs["raw P&L"].per_seed())
    on_dd = compare_seeds(runs["learned reward"].per_seed("max_drawdown"),
                          runs["raw P&L"].per_seed("max_drawdown"))
    on_turnover = compare_seeds(runs["learned reward"].per_seed("turnover"),
                                runs["raw P&L"].per_seed("turnover"))
    learned = ", ".join(f"{k} {v:+.3f}" for k, v in weights.items())
    setting = (f"PPO {len(SEEDS)} seeds x {ITERATIONS} iterations per arm, "
               f"{len(HELD_OUT)} held-out days")
    return [
        Row(
            figure=(f"learned (Bradley-Terry) reward vs raw P&L, judged by the annotator's true "
                    f"utility P&L − max drawdown ({setting}; model agreement {agreement:.3f}; "
                    f"per unit P&L: {learned})"),
            value=(f"difference {on_truth.difference:+.0f} [{on_truth.low:+.0f}, "
                   f"{on_truth.high:+.0f}] (Welch 95%)"),
            baseline=f"raw-P&L arm's true utility {utility('raw P&L').mean():.0f}",
            ratio=utility("learned reward").mean() / utility("raw P&L").mean(),
            target="a detectable effect: the interval excludes 0",
            met=on_truth.low > 0 or on_truth.high < 0,
        ),
        Row(
            figure=("the same two arms, learned minus raw, per day: P&L, max drawdown and turnover "
                    "(the learned reward pays for turnover, which the market charges for)"),
            value=(f"P&L {on_pnl.difference:+.0f} [{on_pnl.low:+.0f}, {on_pnl.high:+.0f}]; "
                   f"max drawdown {on_dd.difference:+.0f} [{on_dd.low:+.0f}, {on_dd.high:+.0f}]; "
                   f"turnover {on_turnover.difference:+.0f} [{on_turnover.low:+.0f}, "
                   f"{on_turnover.high:+.0f}]"),
            baseline=(f"raw-P&L arm: P&L {runs['raw P&L'].per_seed().mean():.0f}, max drawdown "
                      f"{runs['raw P&L'].per_seed('max_drawdown').mean():.0f}, turnover "
                      f"{runs['raw P&L'].per_seed('turnover').mean():.0f}"),
            ratio=None,
            target="reported (intervals over seeds)",
            met=True,
        ),
    ]
