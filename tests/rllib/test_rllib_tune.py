"""Multi-seed training on Ray Tune, and the critic that learns once returns are scaled."""

import numpy as np
import pytest

from rl_best_practices import rllib
from rl_best_practices.envs import MarketEnv
from rl_best_practices.errors import InvalidTypeError, InvalidValueError

SMALL = dict(train_batch_size=1000, minibatch_size=250, num_envs=4, lr=1e-3, hidden=(32, 32))
HELD_OUT = [10_000, 10_001, 10_002]


@pytest.fixture(scope="module")
def runs():
    rllib.start_ray(num_cpus=2)
    arms = {
        "raw": rllib.ppo_config(MarketEnv, scale_returns=False, **SMALL),
        "scaled": rllib.ppo_config(MarketEnv, **SMALL),
    }
    yield rllib.train_arms(arms, seeds=[0, 1], iterations=4, held_out_seeds=HELD_OUT)
    rllib.stop_ray()


def test_one_row_per_seed_and_one_column_per_iteration_or_episode(runs):
    for result in runs.values():
        assert result.seeds == (0, 1)
        assert all(curve.shape == (2, 4) for curve in result.curves.values())
        assert result.held_out["return"].shape == (2, len(HELD_OUT))
        assert result.per_seed("max_drawdown").shape == (2,)
    assert not np.array_equal(runs["raw"].held_out["return"][0], runs["raw"].held_out["return"][1])


def test_held_out_results_are_those_of_the_trained_policy_on_the_raw_market(runs):
    """Raw P&L on held-out seeds: the same summaries envs.episode_summaries computes."""
    pnl = runs["scaled"].held_out["return"]
    assert np.all(np.isfinite(pnl)) and np.abs(pnl).max() > 100  # P&L in currency, not scaled


def test_the_critic_learns_on_scaled_returns_and_not_on_raw_pnl(runs):
    """Measured: raw P&L leaves RLlib's vf_explained_var at about 0.001 (the value loss is
    clipped at vf_clip_param=10 while returns run into the thousands); return scaling lifts
    it to about 0.1 within 4 iterations. The bounds below sit between the two."""
    late = {label: r.curves["vf_explained_var"][:, -2:].mean(axis=1) for label, r in runs.items()}
    assert np.all(np.abs(late["raw"]) < 0.01)
    assert np.all(late["scaled"] > 0.03)


def test_curves_report_the_raw_pnl_as_well_as_the_training_reward(runs):
    scaled = runs["scaled"].curves
    assert np.nanmax(np.abs(scaled["episode_return_mean"])) < 50  # scaled units
    assert np.nanmax(np.abs(scaled["raw_return_mean"])) > 100  # currency
    raw = runs["raw"].curves
    assert np.array_equal(raw["raw_return_mean"], raw["episode_return_mean"], equal_nan=True)


@pytest.mark.parametrize("kwargs, error, message", [
    ({"seeds": [0]}, InvalidValueError, "at least 2 distinct"),
    ({"seeds": [0, 0]}, InvalidValueError, "at least 2 distinct"),
    ({"seeds": [0, True]}, InvalidTypeError, "seeds"),
    ({"iterations": 0}, InvalidValueError, "iterations"),
    ({"held_out_seeds": []}, InvalidValueError, "held_out_seeds"),
    ({"max_concurrent": 0}, InvalidValueError, "max_concurrent"),
])
def test_bad_arguments_are_refused_before_anything_runs(kwargs, error, message):
    arguments = dict(seeds=[0, 1], iterations=1, held_out_seeds=[1])
    arguments.update(kwargs)
    with pytest.raises(error, match=message):
        rllib.train_arms({"a": rllib.ppo_config(MarketEnv)}, **arguments)


def test_arms_must_be_rllib_configs():
    with pytest.raises(InvalidTypeError, match="at least one label"):
        rllib.train_arms({}, seeds=[0, 1], iterations=1, held_out_seeds=[1])
    with pytest.raises(InvalidTypeError, match=r"arms\['a'\] must be an RLlib AlgorithmConfig"):
        rllib.train_arms({"a": {"lr": 1}}, seeds=[0, 1], iterations=1, held_out_seeds=[1])


def test_unknown_summary_is_refused(runs):
    with pytest.raises(InvalidValueError, match="summary must be one of"):
        runs["raw"].per_seed("sharpe")
