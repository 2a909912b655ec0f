"""Each estimator, its Q model, its bootstrap interval and the ground-truth rollouts, checked
exactly against their definitions computed independently on tiny hand-made data."""

import warnings

import numpy as np
import pyarrow as pa
import pytest

from rl_best_practices import errors, ope
from rl_best_practices.envs import MarketEnv
from rl_best_practices.feedback.offline import sampling_policy
from rl_best_practices.ope import load_episodes, off_policy_value, rollout_returns

# eps_id: [(x, action, reward, behaviour's probability of that action), ...] in step order.
# One observation x in (0, 1) per step; the target takes action 1 with probability x.
EPISODES = {
    "b": [(0.2, 0, 1.0, 0.6), (0.6, 1, 2.0, 0.5), (0.5, 1, -1.0, 0.4)],
    "a": [(0.7, 1, 3.0, 0.5)],
    "c": [(0.4, 0, 0.5, 0.7), (0.9, 1, 4.0, 0.5)],
    "d": [(0.3, 1, -2.0, 0.25), (0.8, 0, 1.5, 0.5), (0.1, 0, 0.0, 0.8)],
}
ORDER = ["a", "b", "c", "d"]  # episodes sorted by eps_id: the rows' order once loaded
RIDGE = 0.1  # the Q model's ridge penalty per logged row (the module's documented choice)


def table_of(episodes):
    rows = [(eps, t, x, a, r, p) for eps, steps in episodes.items()
            for t, (x, a, r, p) in enumerate(steps)]
    rows = rows[::-1]  # stored out of order
    eps, t, x, a, r, p = zip(*rows, strict=True)
    return pa.table({"eps_id": list(eps), "t": list(t), "obs": [[v] for v in x],
                     "actions": list(a), "rewards": list(r),
                     "action_logp": [float(np.log(v)) for v in p]})


def target(obs):
    return np.column_stack([1 - obs[:, 0], obs[:, 0]])


def pi(x, a):
    return x if a == 1 else 1 - x


def quiet(data, probs, method, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", errors.EffectiveSampleSizeWarning)
        return off_policy_value(data, probs, method, **kwargs)


def independent_fqe(episodes, gamma, pi=pi):
    """Fitted Q evaluation of ``target`` from its definition: features 1, x, x^2, t/H, (t/H)^2;
    per action a ridge least-squares fit (numpy.linalg.lstsq on the augmented system), H sweeps
    from Q = 0, every value clipped to the largest possible return max|r| * H."""
    order = [eps for eps in ORDER if eps in episodes] or sorted(episodes)
    steps = [s for eps in order for s in episodes[eps]]
    step = np.array([t for eps in order for t in range(len(episodes[eps]))])
    follows = np.array([t < len(episodes[eps]) - 1 for eps in order
                        for t in range(len(episodes[eps]))])
    x = np.array([s[0] for s in steps])
    actions = np.array([s[1] for s in steps])
    rewards = np.array([s[2] for s in steps])
    probs = np.array([[pi(v, 0), pi(v, 1)] for v in x])
    horizon = int(step.max()) + 1
    time = step / horizon
    phi = np.column_stack([np.ones_like(x), x, x**2, time, time**2])
    n, k = phi.shape
    bound = np.abs(rewards).max() * horizon
    q = np.zeros((n, 2))
    clipped = False
    for _ in range(horizon):
        v = (probs * q).sum(axis=1)
        y = rewards + gamma * np.where(follows, np.r_[v[1:], 0.0], 0.0)
        fit = np.zeros((n, 2))
        for a in (0, 1):
            rows = actions == a
            design = np.vstack([phi[rows], np.sqrt(RIDGE * n) * np.eye(k)])
            theta = np.linalg.lstsq(design, np.r_[y[rows], np.zeros(k)], rcond=None)[0]
            fit[:, a] = phi @ theta
        clipped |= bool(np.any(np.abs(fit) > bound))
        q = np.clip(fit, -bound, bound)
    return q, clipped


def definitions(episodes, gamma, q):
    """Per episode: (IS numerator, weight, PDIS, DR) from their definitions, DR with the Q
    values ``q`` (rows in load order): sum_t gamma^t (w_t r_t - w_t Q(s_t, a_t) + w_{t-1} V(s_t)),
    V(s) = sum_a pi(a|s) Q(s, a), w_{-1} = 1 (Jiang and Li 2016; Thomas and Brunskill 2016)."""
    out, row = [], 0
    for eps in ORDER:
        if eps not in episodes:
            continue
        w, ret, pdis, dr = 1.0, 0.0, 0.0, 0.0
        for t, (x, a, r, p) in enumerate(episodes[eps]):
            w_prev = w
            w *= pi(x, a) / p
            ret += gamma**t * r
            pdis += gamma**t * w * r
            v = pi(x, 0) * q[row, 0] + pi(x, 1) * q[row, 1]
            dr += gamma**t * (w * r - w * q[row, a] + w_prev * v)
            row += 1
        out.append((w * ret, w, pdis, dr))
    return np.array(out)


@pytest.mark.parametrize("gamma", [1.0, 0.8])
def test_doubly_robust_equals_its_definition_for_a_given_q_model(gamma, monkeypatch):
    q = np.arange(1.0, 19.0).reshape(9, 2) * np.array([1.0, -0.5])  # a distinct value per entry
    monkeypatch.setattr(ope, "_fitted_q", lambda ep, probs, g: q)
    expected = definitions(EPISODES, gamma, q)[:, 3].mean()
    assert quiet(table_of(EPISODES), target, "dr", gamma=gamma).value == pytest.approx(
        expected, rel=1e-12)


@pytest.mark.parametrize("gamma", [1.0, 0.8])
def test_the_q_model_is_fitted_q_evaluation_by_ridge_least_squares(gamma):
    q, _ = independent_fqe(EPISODES, gamma)
    fitted = ope._fitted_q(load_episodes(table_of(EPISODES)), target(
        load_episodes(table_of(EPISODES)).obs), gamma)
    np.testing.assert_allclose(fitted, q, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_the_q_model_never_exceeds_the_largest_possible_return(sign):
    # action 0 logged only at small x with rewards growing fast: the quadratic fit extrapolates
    # far beyond max|r| * horizon = 4 at x = 6, where the bound must clip it (either sign)
    far = {"a": [(0.0, 0, 0.0, 0.5), (6.0, 1, 0.0, 0.5)], "b": [(1.0, 0, sign, 0.5)],
           "c": [(2.0, 0, 2.0 * sign, 0.5), (0.5, 1, 0.0, 0.5)]}
    uniform, clipped = independent_fqe(far, 1.0, pi=lambda x, a: 0.5)
    assert clipped and np.abs(uniform).max() == 4.0
    ep = load_episodes(table_of(far))
    probs = np.full((len(ep.obs), 2), 0.5)
    np.testing.assert_allclose(ope._fitted_q(ep, probs, 1.0), uniform, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("gamma", [1.0, 0.8])
def test_doubly_robust_with_its_fitted_q_equals_the_definition(gamma):
    q, _ = independent_fqe(EPISODES, gamma)
    expected = definitions(EPISODES, gamma, q)
    est = quiet(table_of(EPISODES), target, "dr", gamma=gamma)
    assert est.value == pytest.approx(expected[:, 3].mean(), rel=1e-9)
    weights = expected[:, 1]
    assert est.ess == pytest.approx(weights.sum() ** 2 / (weights**2).sum(), rel=1e-12)


def test_doubly_robust_is_not_per_decision_importance_sampling():
    # the Q model's control variate changes the estimate on these episodes
    pdis = quiet(table_of(EPISODES), target, "pdis").value
    dr = quiet(table_of(EPISODES), target, "dr").value
    assert abs(dr - pdis) > 1e-3


def bootstrap(num, den, seed, confidence):
    """A percentile bootstrap over episodes with the estimator's Generator draws (2000 resamples
    of n episodes from numpy.random.default_rng(seed)); resamples of zero weight dropped."""
    rng = np.random.default_rng(seed)
    picks = rng.integers(len(num), size=(2000, len(num)))
    with np.errstate(invalid="ignore", divide="ignore"):
        boot = num[picks].sum(axis=1) / den[picks].sum(axis=1)
    boot = boot[np.isfinite(boot)]
    tail = (1 - confidence) / 2
    return np.quantile(boot, [tail, 1 - tail])


@pytest.mark.parametrize("method", ["is", "wis", "pdis", "dr"])
def test_the_interval_is_the_percentile_bootstrap_over_episodes(method):
    q, _ = independent_fqe(EPISODES, 0.9)
    per = definitions(EPISODES, 0.9, q)
    num = {"is": per[:, 0], "wis": per[:, 0], "pdis": per[:, 2], "dr": per[:, 3]}[method]
    den = per[:, 1] if method == "wis" else np.ones(len(per))
    for seed, confidence in [(0, 0.95), (7, 0.8)]:
        est = quiet(table_of(EPISODES), target, method, gamma=0.9, seed=seed,
                    confidence=confidence)
        low, high = bootstrap(num, den, seed, confidence)
        assert (est.low, est.high) == (pytest.approx(low, rel=1e-9), pytest.approx(high, rel=1e-9))
        assert est.confidence == confidence and est.method == method
    again = quiet(table_of(EPISODES), target, method, gamma=0.9, seed=7, confidence=0.8)
    assert again == est  # reproducible with the seed


def test_resamples_without_weight_are_left_out_of_the_interval():
    # the target never takes episode "c"'s first action: weight 0, and a resample of "c" alone
    # has no weight at all (WIS undefined); the interval comes from the other resamples
    def never_c(obs):
        return np.where(np.isclose(obs, 0.4), [[0.0, 1.0]], [[0.5, 0.5]])

    episodes = {k: EPISODES[k] for k in ("a", "c")}
    ep_weights = np.array([0.5 / 0.5, 0.0])
    num = ep_weights * np.array([3.0, 4.5])
    est = quiet(table_of(episodes), never_c, "wis", seed=1, confidence=0.5)
    low, high = bootstrap(num, ep_weights, 1, 0.5)
    assert np.isfinite([est.low, est.high]).all()
    assert (est.low, est.high) == (pytest.approx(low), pytest.approx(high))


def test_more_episodes_narrow_the_interval():
    many = {f"{k}{i}": v for i in range(8) for k, v in EPISODES.items()}
    few = quiet(table_of(EPISODES), target, "pdis")
    wide = few.high - few.low
    many_est = quiet(table_of(many), target, "pdis")
    assert many_est.n_episodes == 32
    assert many_est.value == pytest.approx(few.value)  # the same episodes, eight times each
    assert many_est.high - many_est.low < 0.6 * wide
    assert many_est.low <= many_est.value <= many_est.high


def hand_rollouts(probs, seeds, length, gamma, seed):
    """The discounted return of one episode per seed, stepping the env by hand with the draws of
    sampling_policy(probs, seed) (one Generator for all episodes)."""
    act = sampling_policy(probs, seed)
    env = MarketEnv({"episode_length": length})
    returns, steps = [], 0
    for s in seeds:
        obs, _ = env.reset(seed=s)
        total = 0.0
        for t in range(length):
            obs, reward, terminated, truncated, _ = env.step(act(obs)[0])
            total += gamma**t * reward
            steps += 1
            assert truncated == (t == length - 1) and not terminated
        returns.append(total)
    return np.array(returns)


@pytest.mark.parametrize("gamma", [1.0, 0.7])
def test_rollout_returns_are_the_discounted_returns_of_the_episodes(gamma):
    buy = lambda obs: [0.0, 0.0, 1.0]  # noqa: E731
    mixed = lambda obs: [0.2, 0.3, 0.5]  # noqa: E731
    for probs in (buy, mixed):
        expected = hand_rollouts(probs, [3, 4, 5], 3, gamma, seed=2)
        got = rollout_returns(probs, [3, 4, 5], {"episode_length": 3}, seed=2, gamma=gamma)
        np.testing.assert_allclose(got, expected, rtol=1e-12)
        assert np.all(expected != 0)
    # the seed drives the draws: another seed, other actions, other returns
    other = rollout_returns(mixed, [3, 4, 5], {"episode_length": 3}, seed=3, gamma=gamma)
    assert not np.allclose(other, hand_rollouts(mixed, [3, 4, 5], 3, gamma, seed=2))


def test_rollout_returns_default_to_the_undiscounted_market_episode():
    buy = lambda obs: [0.0, 0.0, 1.0]  # noqa: E731
    mixed = lambda obs: [0.2, 0.3, 0.5]  # noqa: E731
    length = MarketEnv().params.episode_length
    for probs in (buy, mixed):
        expected = hand_rollouts(probs, [1], length, 1.0, seed=0)
        np.testing.assert_allclose(rollout_returns(probs, [1]), expected, rtol=1e-12)


@pytest.mark.parametrize("kwargs, message", [
    ({"gamma": 1.5}, r"^gamma must be a finite number in \[0, 1\]"),
    ({"seeds": [0, -1]}, r"^each seed must be an integer >= 0"),
    ({"seed": -1}, r"^seed must be an integer >= 0"),
])
def test_rollout_settings_out_of_range_are_refused_by_name(kwargs, message):
    args = {"seeds": [0]} | kwargs
    seeds = args.pop("seeds")
    with pytest.raises(errors.InvalidValueError, match=message):
        rollout_returns(lambda obs: [0.0, 1.0, 0.0], seeds, {"episode_length": 2}, **args)


def strict():
    """Every warning an error, except the effective sample size warning the tests expect."""
    context = warnings.catch_warnings()
    context.__enter__()
    warnings.simplefilter("error")
    warnings.filterwarnings("ignore", category=errors.EffectiveSampleSizeWarning)
    return context


def test_zero_total_weight_gives_nan_without_numpy_warnings():
    # the target gives probability 0 to every logged first action: all weights 0, WIS 0/0
    def never_logged(obs):
        x = np.round(obs[:, :1], 1)
        return np.where(np.isin(x, [0.7, 0.3]), [[1.0, 0.0]],
                        np.where(np.isin(x, [0.2, 0.4]), [[0.0, 1.0]], target(obs)))

    context = strict()
    try:
        est = off_policy_value(table_of(EPISODES), never_logged, "wis")
    finally:
        context.__exit__(None, None, None)
    assert est.ess == 0.0 and np.isnan([est.value, est.low, est.high]).all()


@pytest.mark.parametrize("method", ["is", "wis"])
def test_an_overflowing_weight_gives_nan_and_the_warning_not_inf(method):
    # a logged action the behaviour took with probability e^-800: its weight overflows to inf
    table = table_of(EPISODES)
    logp = table.column("action_logp").to_numpy().copy()
    logp[table.column("eps_id").to_pylist().index("a")] = -800.0
    table = table.set_column(table.column_names.index("action_logp"), "action_logp", [logp])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(errors.EffectiveSampleSizeWarning, match="collapsed to 1.0 of 4"):
            off_policy_value(table, target, method)
    context = strict()
    try:
        est = off_policy_value(table, target, method)
    finally:
        context.__exit__(None, None, None)
    assert np.isnan(est.value) and est.ess == 1.0


def test_a_float32_target_is_evaluated_in_float64():
    single = lambda o: target(o).astype(np.float32)  # noqa: E731
    widened = lambda o: single(o).astype(np.float64)  # noqa: E731
    for method in ("is", "pdis"):
        assert quiet(table_of(EPISODES), single, method) == quiet(table_of(EPISODES), widened,
                                                                  method)


def test_the_default_seed_is_zero():
    many = table_of({f"{k}{i}": v for i in range(8) for k, v in EPISODES.items()})
    default = quiet(many, target, "is")
    assert default == quiet(many, target, "is", seed=0)
    assert default != quiet(many, target, "is", seed=1)  # the seed shows in the interval
    mixed = lambda obs: [0.2, 0.3, 0.5]  # noqa: E731
    np.testing.assert_array_equal(rollout_returns(mixed, [1, 2], {"episode_length": 3}),
                                  rollout_returns(mixed, [1, 2], {"episode_length": 3}, seed=0))


def test_the_warning_points_at_the_caller_and_says_not_to_trust_the_estimate():
    with pytest.warns(errors.EffectiveSampleSizeWarning,
                      match=r"\(the target policy is far from the behaviour policy\); "
                            r"do not trust it$") as record:
        off_policy_value(table_of(EPISODES), target, "is", min_ess=1.0)
    # the caller's line (under mutation testing, mutmut's trampoline adds one frame above it)
    where = record[0].filename
    assert where == __file__ or where.endswith("mutmut/mutation/trampoline.py")


def test_errors_name_what_is_wrong_in_full():
    with pytest.raises(errors.InvalidTypeError, match=r"pyarrow Table, got int$"):
        off_policy_value(42, target)
    with pytest.raises(errors.MissingFileError, match=r"^no Parquet data at .*nothing$"):
        off_policy_value("/nonexistent/nothing", target)
    with pytest.raises(errors.InvalidValueError,
                       match=r"^target probabilities must be finite and non-negative$"):
        off_policy_value(table_of(EPISODES), lambda o: np.tile([1.5, -0.5], (len(o), 1)))


def test_a_folder_of_files_whose_columns_differ_is_read_as_one(tmp_path):
    import pyarrow.parquet as pq

    table = table_of(EPISODES)
    first = table.slice(0, 5).append_column("infos", pa.array(["x"] * 5))
    pq.write_table(first, tmp_path / "part-0.parquet")
    pq.write_table(table.slice(5), tmp_path / "part-1.parquet")
    assert quiet(tmp_path, target, "pdis") == quiet(table, target, "pdis")


def test_a_missing_logged_action_is_refused_as_not_discrete():
    table = table_of(EPISODES)
    actions = pa.array([0, None] + [1] * (table.num_rows - 2), pa.int64())
    table = table.set_column(table.column_names.index("actions"), "actions", actions)
    with pytest.raises(errors.InvalidValueError,
                       match=r"^off-policy evaluation here needs discrete actions \(integers\)$"):
        load_episodes(table)


def test_integer_rewards_and_single_precision_log_probabilities_load_as_float64():
    table = table_of(EPISODES)
    rewards = pa.array([int(2 * r) for r in table.column("rewards").to_pylist()], pa.int64())
    logp = table.column("action_logp").cast(pa.float32())
    table = table.set_column(table.column_names.index("rewards"), "rewards", rewards)
    table = table.set_column(table.column_names.index("action_logp"), "action_logp", logp)
    ep = load_episodes(table)
    assert ep.rewards.dtype == np.float64 and ep.logp.dtype == np.float64
    assert ep.rewards.tolist() == [6.0, 2.0, 4.0, -2.0, 1.0, 8.0, -4.0, 3.0, 0.0]
    assert ep.logp.tolist() == np.log([0.5, 0.6, 0.5, 0.4, 0.7, 0.5, 0.25, 0.5, 0.8]).astype(
        np.float32).astype(np.float64).tolist()


def test_unreadable_logs_are_refused_with_the_way_out_in_full():
    table = table_of(EPISODES)
    with pytest.raises(errors.InvalidValueError,
                       match=r"\('action_logp'\): record episodes with "
                             r"record_episodes\(\.\.\.\) or RLlib, which write it$"):
        load_episodes(table.drop_columns(["action_logp"]))
    packed = table.set_column(table.column_names.index("obs"), "obs",
                              pa.array([b"\x00packed"] * table.num_rows))
    with pytest.raises(errors.InvalidValueError,
                       match=r"^obs and actions must be numeric columns; RLlib compresses "
                             r"observations unless recorded with "
                             r"config\.offline_data\(output_compress_columns=\[\]\)$"):
        load_episodes(packed)


def test_log_probabilities_may_exceed_zero_by_rounding_up_to_1e_9():
    table = table_of(EPISODES)
    column = table.column_names.index("action_logp")
    for excess, accepted in [(1e-9, True), (2e-9, False)]:
        logp = table.column("action_logp").to_numpy().copy()
        logp[0] = excess
        changed = table.set_column(column, "action_logp", [logp])
        if accepted:
            assert load_episodes(changed).logp.max() == excess
        else:
            with pytest.raises(errors.InvalidValueError,
                               match=r"^action_logp must hold finite log-probabilities "
                                     r"\(<= 0\)$"):
                load_episodes(changed)
