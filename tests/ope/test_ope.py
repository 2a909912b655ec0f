"""Off-policy evaluation checked against Monte Carlo ground truth on the market env."""

import warnings

import numpy as np
import pyarrow.parquet as pq
import pytest

from rl_best_practices import errors
from rl_best_practices.feedback import record_episodes
from rl_best_practices.ope import (
    METHODS,
    effective_sample_size,
    load_episodes,
    off_policy_value,
    rollout_returns,
)
from rl_best_practices.scenarios import signal_probabilities

CONFIG = {"episode_length": 10}
BEHAVIOUR, TARGET = 0.5, 0.3  # epsilon of the logged and of the evaluated signal rule


def target(obs):
    return signal_probabilities(obs, TARGET)


@pytest.fixture(scope="module")
def truth():
    """The target's expected return from 4000 simulated episodes, and its standard error."""
    returns = rollout_returns(lambda o: signal_probabilities(o, TARGET), range(10**6, 10**6 + 4000),
                              CONFIG, seed=1)
    return returns.mean(), returns.std(ddof=1) / np.sqrt(len(returns))


@pytest.fixture(scope="module")
def logged(tmp_path_factory):
    folder = tmp_path_factory.mktemp("logged")
    record_episodes(None, range(400), folder, CONFIG,
                    action_probs=lambda o: signal_probabilities(o, BEHAVIOUR), seed=0)
    return folder


@pytest.mark.parametrize("method", METHODS)
def test_each_interval_holds_the_ground_truth(method, logged, truth):
    value, se = truth
    est = off_policy_value(logged, target, method=method)
    assert est.low - 3 * se <= value <= est.high + 3 * se
    assert est.low < est.value < est.high and est.method == method and est.n_episodes == 400
    # the behaviour's own return is far lower: the estimate is not just the logged average
    behaviour = np.mean(rollout_returns(lambda o: signal_probabilities(o, BEHAVIOUR),
                                        range(10**6, 10**6 + 4000), CONFIG, seed=1))
    assert value - behaviour > 2 * (est.high - est.low) / 4


def test_unbiased_estimators_average_to_the_truth_over_many_logs(tmp_path, truth):
    """IS, PDIS and DR are unbiased: their mean over 40 independent logs is within 4 standard
    errors of the ground truth (WIS is only consistent)."""
    value, se_truth = truth
    estimates = {m: [] for m in ("is", "pdis", "dr")}
    for k in range(40):
        folder = tmp_path / f"log{k}"
        record_episodes(None, range(1000 * k, 1000 * k + 50), folder, CONFIG,
                        action_probs=lambda o: signal_probabilities(o, BEHAVIOUR), seed=k)
        for method in estimates:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", errors.EffectiveSampleSizeWarning)
                estimates[method].append(off_policy_value(folder, target, method=method).value)
    for method, values in estimates.items():
        se = np.std(values, ddof=1) / np.sqrt(len(values))
        assert abs(np.mean(values) - value) < 4 * np.hypot(se, se_truth), method
    # per-decision weighting and the Q control variate cut the spread of plain IS
    assert np.std(estimates["pdis"]) < np.std(estimates["is"])
    assert np.std(estimates["dr"]) < np.std(estimates["pdis"])


def test_evaluating_the_behaviour_itself_gives_the_logged_average(logged):
    table = pq.read_table(logged / "data.parquet")
    ep = load_episodes(table)
    logged_mean = np.bincount(ep.episode, ep.rewards).mean()
    for method in ("is", "wis", "pdis"):
        est = off_policy_value(table, lambda o: signal_probabilities(o, BEHAVIOUR), method=method)
        assert est.value == pytest.approx(logged_mean)
        assert est.ess == pytest.approx(400) and est.effective_sample_size == est.ess


def test_a_file_a_folder_and_a_table_give_the_same_estimate(logged):
    table = pq.read_table(logged / "data.parquet")
    by = [off_policy_value(d, target, seed=3) for d in (logged, logged / "data.parquet", table)]
    assert by[0] == by[1] == by[2]
    shuffled = table.take(np.random.default_rng(0).permutation(table.num_rows))
    assert off_policy_value(shuffled, target, seed=3).value == pytest.approx(by[0].value)


def test_the_discount_weights_later_rewards_less(logged):
    table = pq.read_table(logged / "data.parquet")
    ep = load_episodes(table)
    same = lambda o: signal_probabilities(o, BEHAVIOUR)  # noqa: E731
    discounted = off_policy_value(table, same, method="is", gamma=0.5).value
    expected = np.bincount(ep.episode, 0.5 ** ep.step * ep.rewards).mean()
    assert discounted == pytest.approx(expected)


def test_a_collapsed_effective_sample_size_is_named_in_a_warning(logged):
    greedy = lambda o: signal_probabilities(o, 0.0)  # noqa: E731  deterministic target
    with pytest.warns(errors.EffectiveSampleSizeWarning, match="effective sample size"):
        est = off_policy_value(logged, greedy, method="wis")
    assert est.ess < 20
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning when the target is close to the behaviour
        assert off_policy_value(logged, target).ess > 20


def test_effective_sample_size_of_weights():
    assert effective_sample_size(np.ones(10)) == pytest.approx(10)
    assert effective_sample_size(np.array([1.0, 0, 0, 0])) == pytest.approx(1)
    assert effective_sample_size(np.zeros(3)) == 0.0


def test_missing_action_logp_is_a_clear_error(logged):
    table = pq.read_table(logged / "data.parquet").drop_columns(["action_logp"])
    with pytest.raises(errors.InvalidValueError, match="action_logp"):
        off_policy_value(table, target)


def test_a_logged_action_with_zero_behaviour_probability_is_refused(logged):
    table = pq.read_table(logged / "data.parquet")
    logp = table.column("action_logp").to_numpy().copy()
    logp[5] = -np.inf
    broken = table.set_column(table.column_names.index("action_logp"), "action_logp", [logp])
    with pytest.raises(errors.InvalidValueError, match="probability 0 under the behaviour"):
        off_policy_value(broken, target)


@pytest.mark.parametrize(
    ("probs", "message"),
    [
        (lambda o: np.full((len(o), 3), 0.5), "sum to 1"),
        (lambda o: np.full((len(o), 2), 0.5), "shape"),
        (lambda o: np.full((3,), 1 / 3), "shape"),
        (lambda o: np.full((len(o) - 1, 3), 1 / 3), "shape"),
        (lambda o: np.tile([1.5, -0.5, 0.0], (len(o), 1)), "non-negative"),
    ],
)
def test_bad_target_probabilities_are_refused(logged, probs, message):
    with pytest.raises(errors.InvalidValueError, match=message):
        off_policy_value(logged, probs)


def test_bad_arguments_are_refused(logged, tmp_path):
    with pytest.raises(errors.InvalidValueError, match="method must be one of"):
        off_policy_value(logged, target, method="magic")
    with pytest.raises(errors.InvalidValueError, match="confidence"):
        off_policy_value(logged, target, confidence=1.0)
    with pytest.raises(errors.InvalidValueError, match="gamma"):
        off_policy_value(logged, target, gamma=1.5)
    with pytest.raises(errors.MissingFileError):
        off_policy_value(tmp_path / "nothing", target)
    with pytest.raises(errors.InvalidTypeError, match="pyarrow Table"):
        off_policy_value(42, target)
    with pytest.raises(errors.InvalidTypeError, match="target_probs must be callable"):
        off_policy_value(logged, "uniform")


def test_compressed_observations_are_a_clear_error(logged):
    import pyarrow as pa

    table = pq.read_table(logged / "data.parquet")
    packed = pa.array([b"\x00packed"] * table.num_rows)
    table = table.set_column(table.column_names.index("obs"), "obs", packed)
    with pytest.raises(errors.InvalidValueError, match="output_compress_columns"):
        off_policy_value(table, target)
