"""Off-policy evaluation against ground truth, and offline RL (BC, MARWIL) over seeds.

* each estimator of :func:`rl_best_practices.ope.off_policy_value` on 100 independent logs of
  lesson 05's set-up (the signal rule exploring with probability 0.5 logs 200 days of 20 steps;
  the candidate explores with 0.3): bias and the coverage of its 95% interval, against the true
  value from 10,000 simulated days, beside the naive estimate a practitioner gets for free (the
  mean logged return, which ignores that the candidate acts differently);
* the time an estimate takes per 1,000 logged episodes, against simulating 1,000 episodes;
* RLlib's MARWIL and BC trained on one such log with 5 seeds each, their stochastic policies run
  on 300 new days: MARWIL against BC (Welch) and against the logged policy.
"""

import tempfile
import time
import warnings

import numpy as np

from rl_best_practices.errors import EffectiveSampleSizeWarning
from rl_best_practices.evaluation import compare_seeds, seed_interval
from rl_best_practices.feedback import record_episodes
from rl_best_practices.ope import METHODS, off_policy_value, rollout_returns
from rl_best_practices.scenarios import signal_probabilities

from common import Row

ENV = {"episode_length": 20}
BEHAVIOUR, TARGET = 0.5, 0.3
LOGS, DAYS = 100, 200


def rule(epsilon):
    return lambda obs: signal_probabilities(obs, epsilon)


def estimator_rows() -> list[Row]:
    truth = rollout_returns(rule(TARGET), range(10**6, 10**6 + 10_000), ENV, seed=1).mean()
    estimates, logged = {m: [] for m in METHODS}, []
    with tempfile.TemporaryDirectory() as root, warnings.catch_warnings():
        warnings.simplefilter("ignore", EffectiveSampleSizeWarning)
        for k in range(LOGS):
            folder = f"{root}/log{k}"
            logged.append(record_episodes(None, range(k * DAYS, (k + 1) * DAYS), folder, ENV,
                                          action_probs=rule(BEHAVIOUR), seed=k).mean())
            for method in METHODS:
                estimates[method].append(off_policy_value(folder, rule(TARGET), method=method))
    naive_bias = float(np.mean(logged)) - truth
    naive_se = float(np.std(logged, ddof=1) / np.sqrt(len(logged)))
    rows = []
    for method, found in estimates.items():
        values = np.array([e.value for e in found])
        covered = np.mean([e.low <= truth <= e.high for e in found])
        bias, se = values.mean() - truth, values.std(ddof=1) / np.sqrt(len(values))
        rows.append(Row(
            figure=(f"OPE {method!r}: bias and 95% interval coverage ({LOGS} logs of {DAYS} days "
                    f"x 20 steps; logged ε={BEHAVIOUR}, candidate ε={TARGET})"),
            value=(f"bias {bias:+.1f} ± {se:.1f} ({bias / truth:+.1%}), coverage {covered:.0%}, "
                   f"spread (sd) {values.std(ddof=1):.0f}"),
            baseline=(f"true value {truth:.0f} (10,000 simulated days); naive mean logged "
                      f"return: bias {naive_bias:+.1f} ± {naive_se:.1f}"),
            ratio=covered / 0.95,
            target="coverage ≥ 90%" + (" and |bias| < 3 s.e." if method != "wis" else ""),
            met=bool(covered >= 0.9 and (method == "wis" or abs(bias) < 3 * se)),
        ))
    return rows


def timing_row() -> Row:
    with tempfile.TemporaryDirectory() as folder:
        record_episodes(None, range(1000), folder, ENV, action_probs=rule(BEHAVIOUR), seed=0)
        seconds = {}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", EffectiveSampleSizeWarning)
            for method in METHODS:
                start = time.perf_counter()
                off_policy_value(folder, rule(TARGET), method=method)
                seconds[method] = time.perf_counter() - start
    start = time.perf_counter()
    rollout_returns(rule(TARGET), range(1000), ENV, seed=0)
    simulate = time.perf_counter() - start
    slowest = max(seconds.values())
    return Row(
        figure="OPE time per 1,000 logged episodes of 20 steps (bootstrap of 2000 resamples)",
        value=", ".join(f"{m} {s:.2f} s" for m, s in seconds.items()),
        baseline=f"simulating 1,000 episodes of the candidate {simulate:.2f} s",
        ratio=slowest / simulate,
        target="slowest ≤ 1 s",
        met=slowest <= 1.0,
    )


def offline_rl_rows(seeds=(0, 1, 2, 3, 4), iterations=10) -> list[Row]:
    from rl_best_practices import rllib

    days = range(20_000, 20_300)
    per_seed = {"BC": [], "MARWIL": []}
    with tempfile.TemporaryDirectory() as folder:
        record_episodes(None, range(DAYS), folder, ENV, action_probs=rule(BEHAVIOUR), seed=0)
        rllib.start_ray(num_cpus=2)
        try:
            for seed in seeds:
                configs = {
                    "BC": rllib.bc_config(folder, ENV, seed=seed, train_batch_size=1024, lr=3e-3),
                    "MARWIL": rllib.marwil_config(folder, ENV, seed=seed, beta=1.0,
                                                  train_batch_size=1024, lr=3e-3),
                }
                for name, config in configs.items():
                    algo = config.build_algo()
                    try:
                        for _ in range(iterations):
                            algo.train()
                        returns = rollout_returns(rllib.action_probabilities(algo), days, ENV,
                                                  seed=seed)
                    finally:
                        algo.stop()
                    per_seed[name].append(returns.mean())
        finally:
            rllib.stop_ray()
    logged = rollout_returns(rule(BEHAVIOUR), days, ENV, seed=99).mean()
    versus_bc = compare_seeds(per_seed["MARWIL"], per_seed["BC"])
    mean, low, high = (float(v[0]) for v in seed_interval(per_seed["MARWIL"]))
    bc_mean = float(np.mean(per_seed["BC"]))
    return [
        Row(
            figure=(f"RLlib MARWIL vs BC on the logged days ({len(seeds)} seeds each, "
                    f"{iterations} iterations; stochastic policies on 300 new days)"),
            value=(f"difference {versus_bc.difference:+.0f} "
                   f"[{versus_bc.low:+.0f}, {versus_bc.high:+.0f}] (Welch 95%)"),
            baseline=f"BC mean {bc_mean:.0f}",
            ratio=np.mean(per_seed["MARWIL"]) / bc_mean,
            target="MARWIL above BC (lower bound > 0)",
            met=versus_bc.low > 0,
        ),
        Row(
            figure="RLlib MARWIL against the logged policy (same 300 new days)",
            value=f"{mean:.0f} [{low:.0f}, {high:.0f}] (t-interval over {len(seeds)} seeds)",
            baseline=f"logged policy {logged:.0f}",
            ratio=mean / logged,
            target="above the logged policy (lower bound > it)",
            met=low > logged,
        ),
    ]


def run() -> list[Row]:
    return [*estimator_rows(), timing_row(), *offline_rl_rows()]
