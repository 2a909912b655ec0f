"""Does PPO beat the course's hand-written rule? PPO against ``signal_policy`` on the same days.

The baseline is the strongest simple alternative a practitioner would try first: the package's
own trading rule (:func:`rl_best_practices.scenarios.signal_policy`: follow the signal beyond
±0.3, cap the position at half the limit), evaluated in the same run on the same 50 held-out
market days as PPO (flat and random are shown for scale only). PPO trains 5 seeds on Ray Tune
(``train_seeds``, two trials at a time) with the small config of ``bench_evaluation``, at two
budgets: 10 iterations of 2000 steps (the lessons train 5 or 6) and 30. Each seed's mean
held-out P&L minus the rule's mean on the same days gives one number per seed; the row's
interval is the t-interval over the 5 seeds (``seed_interval``). The days are fixed, so a second
interval, over the 50 days (seed-averaged PPO minus the rule, paired by day), says how far the
verdict carries to other days.

Target, fixed before measuring: PPO at least as good as the rule, the lower bound of PPO − rule
above 0 ("does RL beat the heuristic?" is the production question; a NO is reported as such).
"""

import time

import numpy as np

from rl_best_practices import rllib
from rl_best_practices.envs import MarketEnv, episode_summaries, flat_policy, random_policy
from rl_best_practices.evaluation import seed_interval
from rl_best_practices.scenarios import signal_policy

from common import Row

SEEDS = [0, 1, 2, 3, 4]
HELD_OUT = list(range(10_000, 10_050))  # market seeds training never sees
BUDGETS = (10, 30)  # iterations of 2000 steps
SMALL = dict(train_batch_size=2000, minibatch_size=250, num_envs=8, hidden=(32, 32), lr=1e-3)


def _interval(values: np.ndarray) -> tuple[float, float, float]:
    mean, low, high = seed_interval(values)
    return float(mean[0]), float(low[0]), float(high[0])


def run() -> list[Row]:
    env = MarketEnv()
    rule = episode_summaries(signal_policy, HELD_OUT)["return"]
    flat = episode_summaries(flat_policy(env), HELD_OUT)["return"].mean()
    rand = episode_summaries(random_policy(env, seed=0), HELD_OUT)["return"].mean()
    config = rllib.ppo_config(MarketEnv, **SMALL)
    results = {}
    rllib.start_ray(num_cpus=2)
    try:
        for iterations in BUDGETS:
            start = time.perf_counter()
            runs = rllib.train_seeds(config, SEEDS, iterations, held_out_seeds=HELD_OUT)
            results[iterations] = (runs.held_out["return"], time.perf_counter() - start)
    finally:
        rllib.stop_ray()
    rule_se = rule.std(ddof=1) / np.sqrt(rule.size)
    rows = []
    for iterations, (returns, seconds) in results.items():
        per_seed = returns.mean(axis=1)
        diff, low, high = _interval(per_seed - rule.mean())
        _, day_low, day_high = _interval(returns.mean(axis=0) - rule)
        ppo, ppo_low, ppo_high = _interval(per_seed)
        rows.append(Row(
            figure=(f"PPO vs the signal rule, held-out P&L per day ({len(SEEDS)} seeds x "
                    f"{iterations} iterations of 2000 steps on Tune, {len(HELD_OUT)} held-out "
                    f"days; {seconds:.0f} s)"),
            value=(f"PPO {ppo:.0f} [{ppo_low:.0f}, {ppo_high:.0f}]; PPO − rule {diff:+.0f} "
                   f"[{low:+.0f}, {high:+.0f}] over seeds, [{day_low:+.0f}, {day_high:+.0f}] "
                   "over days"),
            baseline=(f"signal_policy {rule.mean():.0f} ± {rule_se:.0f} (s.e. over days); "
                      f"for scale: flat {flat:.0f}, random {rand:.0f}"),
            ratio=ppo / rule.mean(),
            target="PPO at least as good as the rule: lower bound of PPO − rule > 0 (over seeds)",
            met=low > 0,
        ))
    return rows
