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


# Three hand-made episodes (stored out of order), one observation x in (0, 1) per step: the
# behaviour took action 1 with probability 0.5, the target takes it with probability x.
EPISODES = {  # eps_id: [(x, action, reward), ...] in step order
    "b": [(0.2, 0, 1.0), (0.6, 1, 2.0), (0.5, 1, -1.0)],
    "a": [(0.7, 1, 3.0)],
    "c": [(0.4, 0, 0.5), (0.6, 1, 4.0)],
}


def hand_made_table():
    import pyarrow as pa

    rows = [(eps, t, x, a, r) for eps, steps in EPISODES.items()
            for t, (x, a, r) in enumerate(steps)]
    rows = [rows[i] for i in (4, 0, 5, 2, 1, 3)]  # not in episode or step order
    eps, t, x, a, r = zip(*rows, strict=True)
    return pa.table({"eps_id": list(eps), "t": list(t), "obs": [[v] for v in x],
                     "actions": list(a), "rewards": list(r),
                     "action_logp": [float(np.log(0.5))] * len(rows)})


def hand_made_target(obs):
    return np.column_stack([1 - obs[:, 0], obs[:, 0]])


def hand_estimates(gamma):
    """IS, WIS and PDIS from their definitions, episode by episode."""
    weights, returns, pdis = [], [], []
    for steps in EPISODES.values():
        w, ret, per_decision = 1.0, 0.0, 0.0
        for t, (x, a, r) in enumerate(steps):
            w *= (x if a == 1 else 1 - x) / 0.5
            ret += gamma**t * r
            per_decision += gamma**t * w * r
        weights.append(w)
        returns.append(ret)
        pdis.append(per_decision)
    weights, returns = np.array(weights), np.array(returns)
    return {"is": np.mean(weights * returns), "wis": np.sum(weights * returns) / weights.sum(),
            "pdis": np.mean(pdis)}, weights


@pytest.mark.parametrize("gamma", [1.0, 0.9])
def test_estimates_match_their_definitions_on_hand_made_episodes(gamma):
    expected, weights = hand_estimates(gamma)
    for method, value in expected.items():
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # weights 1.92, 1.4, 1.44: no collapse to warn of
            est = off_policy_value(hand_made_table(), hand_made_target, method=method,
                                   gamma=gamma)
        assert est.value == pytest.approx(value, rel=1e-12), method
        assert est.ess == pytest.approx(weights.sum() ** 2 / (weights**2).sum(), rel=1e-12)
        assert est.n_episodes == 3 and est.low <= est.high


def test_logged_episodes_are_grouped_ordered_and_their_last_steps_marked():
    ep = load_episodes(hand_made_table())
    assert ep.n_episodes == 3 and ep.starts.tolist() == [0, 1, 4]
    assert ep.episode.tolist() == [0, 1, 1, 1, 2, 2] and ep.step.tolist() == [0, 0, 1, 2, 0, 1]
    assert ep.obs[:, 0].tolist() == [0.7, 0.2, 0.6, 0.5, 0.4, 0.6]  # "a", then "b", then "c"
    assert ep.actions.tolist() == [1, 0, 1, 1, 0, 1] and ep.actions.dtype == np.int64
    assert ep.last().tolist() == [True, False, False, True, False, True]


@pytest.mark.parametrize("kwargs, message", [
    ({"gamma": -0.1}, r"^gamma must be a finite number in \[0, 1\]"),
    ({"confidence": 0.0}, r"^confidence must be a finite number in \(0, 1\)"),
    ({"seed": -1}, r"^seed must be an integer >= 0"),
    ({"min_ess": -0.1}, r"^min_ess must be a finite number in \[0, 1\]"),
    ({"min_ess": 1.5}, r"^min_ess must be a finite number in \[0, 1\]"),
])
def test_settings_out_of_range_are_refused_by_name(kwargs, message):
    with pytest.raises(errors.InvalidValueError, match=message):
        off_policy_value(hand_made_table(), hand_made_target, **kwargs)


@pytest.mark.parametrize("column, values, message", [
    ("actions", [0, 1, 1, -1, 0, 1], "discrete actions"),
    ("actions", [0.0, 1.0, 1.0, 0.5, 0.0, 1.0], "discrete actions"),
    ("action_logp", [-0.7, -0.7, 0.5, -0.7, -0.7, -0.7], r"finite log-probabilities \(<= 0\)"),
    ("action_logp", [-0.7, -0.7, np.nan, -0.7, -0.7, -0.7], r"finite log-probabilities \(<= 0\)"),
])
def test_logged_actions_and_their_probabilities_are_checked(column, values, message):
    table = hand_made_table()
    table = table.set_column(table.column_names.index(column), column, [values])
    with pytest.raises(errors.InvalidValueError, match=message):
        load_episodes(table)


def test_one_transition_and_scalar_observations_are_enough():
    table = hand_made_table()
    scalar = table.set_column(table.column_names.index("obs"), "obs",
                              [[row[0] for row in table.column("obs").to_pylist()]])
    assert off_policy_value(scalar, hand_made_target, "is").value == pytest.approx(
        hand_estimates(1.0)[0]["is"])
    one = table.slice(5, 1)  # episode "a": one step, x = 0.7, action 1, reward 3
    with pytest.warns(errors.EffectiveSampleSizeWarning):  # one episode: ESS 1
        assert off_policy_value(one, hand_made_target, "is").value == pytest.approx(
            3.0 * 0.7 / 0.5)
    with pytest.raises(errors.InvalidValueError, match="^logged data hold no transitions$"):
        load_episodes(table.slice(0, 0))


def test_the_warning_starts_strictly_below_the_effective_sample_size_limits():
    # Weights 1.92, 1.4 and 1.44: an ESS of 2.97, warned only when min_ess asks for more.
    _, weights = hand_estimates(1.0)
    ess = weights.sum() ** 2 / (weights**2).sum()
    at_limit = ess / 3
    assert at_limit * 3 == ess
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        off_policy_value(hand_made_table(), hand_made_target, "is", min_ess=at_limit)
    with pytest.warns(errors.EffectiveSampleSizeWarning, match="collapsed to 2.9 of 3"):
        off_policy_value(hand_made_table(), hand_made_target, "is",
                         min_ess=float(np.nextafter(at_limit, 1)))

    # Weights 1, 1 and 0 (the target never takes episode "c"'s first action): ESS exactly 2,
    # the fewest effective episodes that are not warned of.
    def half_but_never_c(obs):
        return np.where(np.isclose(obs, 0.4), [[0.0, 1.0]], [[0.5, 0.5]])

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert off_policy_value(hand_made_table(), half_but_never_c, "is", min_ess=0).ess == 2.0


def test_effective_sample_size_edge_cases():
    assert effective_sample_size(np.array([])) == 0.0
    assert effective_sample_size(np.array([np.inf, 1.0])) == 1.0  # one weight dominates
    assert effective_sample_size(np.array([1e200, 1e200])) == pytest.approx(2.0)


def test_weighted_importance_sampling_of_zero_total_weight_is_nan():
    def never_logged(obs):  # gives probability 0 to every logged first action
        return np.where(np.isin(np.round(obs, 1), [0.2, 0.4]), [[1.0, 0.0]], [[0.0, 1.0]])

    with pytest.warns(errors.EffectiveSampleSizeWarning):
        est = off_policy_value(hand_made_table(), lambda o: 1.0 - never_logged(o), "wis")
    assert np.isnan(est.value) and est.ess == 0.0
    assert np.isnan(est.low) and np.isnan(est.high)  # no resample has any weight either
