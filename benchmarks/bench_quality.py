"""Statistical quality of the lessons' reference implementations, each beside its naive anchor.

* drift: false-alarm rate on clean windows (uncorrected per-feature KS as the anchor) and power
  against a mean shift of one feature;
* safety: unsafe trades executed by random proposals with and without the SafetyLayer;
* reward model: agreement with the true preference at 10% label noise (chance is the anchor);
* offline RL: BC's return against the reference policy it learned from.
"""

import tempfile

import numpy as np
from scipy import stats

from rl_best_practices import rllib
from rl_best_practices.drift import DistributionShiftDetector
from rl_best_practices.envs import MarketEnv, evaluate_policy
from rl_best_practices.feedback import record_episodes
from rl_best_practices.rllib import bc_config
from rl_best_practices.safety import SafetyLayer, position_limit, reduce_position
from rl_best_practices.scenarios import agreement_curve, sample_trajectories, signal_policy

from common import Row

WINDOWS, REFERENCE, WINDOW = 500, 2000, 200


def drift_rows() -> list[Row]:
    rng = np.random.default_rng(0)
    rows = []
    for d in (4, 16):
        detector = DistributionShiftDetector(REFERENCE, window_size=WINDOW)
        reference = rng.normal(size=(REFERENCE, d))
        detector.update_reference(reference)
        naive = corrected = 0
        for _ in range(WINDOWS):
            window = rng.normal(size=(WINDOW, d))
            naive += any(
                stats.ks_2samp(window[:, j], reference[:, j]).pvalue < 0.05 for j in range(d)
            )
            detector.add_observations(window)
            corrected += detector.check_shift(0.05)["shift_detected"]
        rows.append(Row(
            figure=f"drift false-alarm rate, {d} features, {WINDOWS} clean windows",
            value=f"{corrected / WINDOWS:.3f}",
            baseline=f"uncorrected per-feature KS {naive / WINDOWS:.3f}",
            ratio=corrected / max(naive, 1),
            target="0.03 to 0.07",
            met=0.03 <= corrected / WINDOWS <= 0.07,
        ))
    detector = DistributionShiftDetector(REFERENCE, window_size=WINDOW)
    detector.update_reference(rng.normal(size=(REFERENCE, 4)))
    detected = 0
    for _ in range(200):
        window = rng.normal(size=(WINDOW, 4))
        window[:, 0] += 0.3
        detector.add_observations(window)
        detected += detector.check_shift(0.05)["shift_detected"]
    rows.append(Row(
        figure="drift power, 0.3 sd mean shift of 1 of 4 features",
        value=f"{detected / 200:.2f}",
        baseline="false-alarm rate 0.05",
        ratio=detected / 200 / 0.05,
        target="≥ 0.8",
        met=detected / 200 >= 0.8,
    ))
    return rows


def safety_row() -> Row:
    limit, env = 100.0, MarketEnv({"action_type": "continuous"})
    layer = SafetyLayer(action_bounds=(-10, 10), constraint_functions=[position_limit(limit)],
                        fallback_policy=reduce_position())
    unsafe = {"without": 0, "with": 0}
    for name in unsafe:
        rng = np.random.default_rng(1)
        for seed in range(20):
            env.reset(seed=seed)
            for _ in range(200):
                proposal = float(rng.uniform(-10, 10))
                state = {"position": env.position}
                trade = layer.filter_action(proposal, state) if name == "with" else proposal
                unsafe[name] += abs(env.position + float(trade)) > limit
                env.step(float(trade))
    return Row(
        figure="unsafe trades executed (random proposals, limit 100, 20 episodes)",
        value=f"{unsafe['with']} with the SafetyLayer",
        baseline=f"{unsafe['without']} without it",
        ratio=unsafe["with"] / max(unsafe["without"], 1),
        target="0",
        met=unsafe["with"] == 0,
    )


def reward_model_row() -> Row:
    features = sample_trajectories(400, np.random.default_rng(5), {"episode_length": 100})
    agreement = agreement_curve(features[:200], features[200:], [0.1], [300],
                                drawdown_penalty=0.05, seed=9, repeats=5)[0, 0]
    return Row(
        figure="Bradley-Terry reward model: held-out agreement, 300 labels at 10% noise",
        value=f"{agreement:.3f}",
        baseline="chance 0.5",
        ratio=agreement / 0.5,
        target="≥ 0.90",
        met=agreement >= 0.9,
    )


def bc_row() -> Row:
    seeds = range(1000, 1020)
    with tempfile.TemporaryDirectory() as data_dir:
        record_episodes(signal_policy, range(20), data_dir)
        rllib.start_ray(num_cpus=2)
        algo = bc_config(data_dir, seed=0, train_batch_size=1024, lr=3e-3).build_algo()
        try:
            for _ in range(15):
                algo.train()
            bc = evaluate_policy(rllib.greedy_policy(algo), seeds).mean()
        finally:
            algo.stop()
            rllib.stop_ray()
    reference = evaluate_policy(signal_policy, seeds).mean()
    return Row(
        figure="RLlib BC from 20 recorded episodes: mean return on 20 new seeds",
        value=f"{bc:.0f}",
        baseline=f"reference policy {reference:.0f}",
        ratio=bc / reference,
        target="≥ 0.8x",
        met=bc / reference >= 0.8,
    )


def run() -> list[Row]:
    return [*drift_rows(), safety_row(), reward_model_row(), bc_row()]
