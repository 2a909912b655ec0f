"""The feedback store: validation, durability across processes and crashes, exports, offline BC."""

import json
import math
import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pyarrow.parquet as pq
import pytest
from gymnasium import spaces
from hypothesis import given, settings
from hypothesis import strategies as st

from rl_best_practices.envs import MarketEnv, evaluate_policy
from rl_best_practices.feedback import (
    TIE,
    HumanFeedbackCollector,
    bc_config,
    record_episodes,
    signal_policy,
    write_offline_parquet,
)

OFFLINE_COLUMNS = {"eps_id", "obs", "actions", "rewards", "new_obs", "terminateds", "truncateds", "t"}


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        self.now += 1.0
        return self.now


@pytest.fixture
def store(tmp_path):
    fb = HumanFeedbackCollector(tmp_path / "fb.sqlite", action_space=spaces.Discrete(3), clock=FakeClock())
    yield fb
    fb.close()


def snapshot(fb):
    return (fb.ratings(), fb.preferences(), [(p["state"].tolist(), p["action"]) for p in fb.get_correction_dataset()])


def test_records_survive_a_new_collector_on_the_same_file(tmp_path):
    path = tmp_path / "fb.sqlite"
    with HumanFeedbackCollector(path, clock=FakeClock()) as fb:
        fb.record_trajectory_rating("traj_001", 4.5, "good risk management")
        fb.record_action_correction(np.array([0.5, 0.1, -0.2]), 2, 1, "too volatile")
        fb.record_preference("traj_001", "traj_002", "traj_001")
    with HumanFeedbackCollector(path) as again:
        summary = again.get_feedback_summary()
        assert (summary["total_ratings"], summary["total_corrections"], summary["total_preferences"]) == (1, 1, 1)
        assert summary["avg_rating"] == 4.5
        assert again.ratings()[0]["comments"] == "good risk management"
        assert again.ratings()[0]["timestamp"] == 1001.0  # from the injected clock
        pair = again.get_correction_dataset()[0]
        np.testing.assert_allclose(pair["state"], [0.5, 0.1, -0.2])
        assert pair["action"] == 1


def test_the_database_uses_the_write_ahead_log(tmp_path):
    path = tmp_path / "fb.sqlite"
    HumanFeedbackCollector(path).close()
    import sqlite3

    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_without_a_path_records_live_in_memory_only():
    fb = HumanFeedbackCollector()
    fb.record_trajectory_rating("t", 3)
    assert fb.path is None and fb.get_feedback_summary()["total_ratings"] == 1
    assert HumanFeedbackCollector().get_feedback_summary()["total_ratings"] == 0


@pytest.mark.parametrize("rating", [0, 0.999, 5.0001, 99, -1, math.nan, math.inf, "4", None, True])
def test_ratings_outside_one_to_five_or_not_numbers_are_rejected(store, rating):
    with pytest.raises(ValueError, match="rating must be a finite number within 1 to 5"):
        store.record_trajectory_rating("traj", rating)
    assert store.get_feedback_summary()["total_ratings"] == 0


@pytest.mark.parametrize("rating", [1, 1.0, 3.7, 5, np.float32(2.5), np.int64(4)])
def test_ratings_on_the_scale_are_accepted(store, rating):
    store.record_trajectory_rating("traj", rating)
    assert store.ratings()[0]["rating"] == pytest.approx(float(rating))


@pytest.mark.parametrize("trajectory_id", ["", "   ", None, 7])
def test_empty_or_non_string_ids_are_rejected(store, trajectory_id):
    with pytest.raises(ValueError, match="trajectory_id must be a non-empty string"):
        store.record_trajectory_rating(trajectory_id, 3)
    with pytest.raises(ValueError, match="trajectory_a must be a non-empty string"):
        store.record_preference(trajectory_id, "b", "b")
    with pytest.raises(ValueError, match="record_id must be a non-empty string"):
        store.record_trajectory_rating("t", 3, record_id="" if trajectory_id is None else trajectory_id)
    assert store.record_ids() == set()


@pytest.mark.parametrize(
    "a, b, preferred, message",
    [
        ("traj_001", "traj_002", "traj_003", "preferred must be one of the compared trajectories"),
        ("traj_001", "traj_002", None, "preferred must be one of"),
        ("traj_001", "traj_001", "traj_001", "two different trajectories"),
        ("tie", "traj_002", "traj_002", "reserved for ties"),
    ],
)
def test_invalid_preferences_are_rejected(store, a, b, preferred, message):
    with pytest.raises(ValueError, match=message):
        store.record_preference(a, b, preferred)
    assert store.get_feedback_summary()["total_preferences"] == 0


def test_a_tie_is_an_explicit_label(store):
    store.record_preference("a", "b", TIE)
    store.record_preference("a", "c", "c")
    summary = store.get_feedback_summary()
    assert summary["total_preferences"] == 2 and summary["ties"] == 1


@pytest.mark.parametrize(
    "state, message",
    [
        ([0.1, math.nan], "finite"),
        ([math.inf, 0.0], "finite"),
        ([], "non-empty"),
        (3.0, "non-empty"),
        ("abc", "numeric"),
        ([[1.0], [2.0, 3.0]], "numeric"),
    ],
)
def test_states_must_be_finite_arrays(store, state, message):
    with pytest.raises(ValueError, match=message):
        store.record_action_correction(state, 0, 1)
    assert store.get_feedback_summary()["total_corrections"] == 0


def test_states_must_keep_one_shape_also_after_reopening(tmp_path):
    path = tmp_path / "fb.sqlite"
    with HumanFeedbackCollector(path) as fb:
        fb.record_action_correction([0.1, 0.2, 0.3], 0, 1)
        with pytest.raises(ValueError, match=r"shape \(2,\).*shape \(3,\)"):
            fb.record_action_correction([0.1, 0.2], 0, 1)
    with HumanFeedbackCollector(path) as fb:
        with pytest.raises(ValueError, match="shape"):
            fb.record_action_correction(np.zeros((3, 1)), 0, 1)
        assert fb.get_feedback_summary()["total_corrections"] == 1


@pytest.mark.parametrize("action", [3, -1, 1.5, True, "buy", None, [0, 1], math.nan])
def test_actions_outside_the_action_space_are_rejected(store, action):
    with pytest.raises(ValueError, match="action"):
        store.record_action_correction([0.0, 0.0], action, 1)
    with pytest.raises(ValueError, match="human_action"):
        store.record_action_correction([0.0, 0.0], 1, action)
    assert store.get_feedback_summary()["total_corrections"] == 0


def test_box_actions_are_checked_against_bounds_and_shape(tmp_path):
    env = MarketEnv({"action_type": "continuous"})
    fb = HumanFeedbackCollector(action_space=env.action_space)
    fb.record_action_correction(np.zeros(5), np.array([3.0], np.float32), [-2.5])
    for bad in ([11.0], [1.0, 2.0], 2.0):
        with pytest.raises(ValueError, match="not in the action space"):
            fb.record_action_correction(np.zeros(5), [0.0], bad)
    assert fb.get_correction_dataset()[0]["action"] == [-2.5]


def test_a_repeated_record_id_is_an_idempotent_retry_or_an_error(store):
    assert store.record_trajectory_rating("t1", 4, record_id="r-1") == "r-1"
    assert store.record_trajectory_rating("t1", 4, record_id="r-1") == "r-1"  # retry: stored once
    assert store.get_feedback_summary()["total_ratings"] == 1
    with pytest.raises(ValueError, match="already holds a different rating"):
        store.record_trajectory_rating("t1", 2, record_id="r-1")
    with pytest.raises(ValueError, match="already names a rating"):
        store.record_preference("a", "b", "a", record_id="r-1")
    assert store.ratings()[0]["rating"] == 4.0 and store.get_feedback_summary()["total_preferences"] == 0


def test_generated_ids_never_collide_with_explicit_ones(store):
    store.record_trajectory_rating("t", 3, record_id="rating-1")
    generated = store.record_trajectory_rating("t", 4)
    assert generated != "rating-1" and len(store.record_ids()) == 2


def test_a_failed_batch_keeps_none_of_its_records(store):
    store.record_trajectory_rating("before", 3)
    with pytest.raises(ValueError):
        with store.batch():
            store.record_trajectory_rating("inside", 4)
            store.record_trajectory_rating("inside", 99)
    assert [r["trajectory_id"] for r in store.ratings()] == ["before"]
    with store.batch():
        store.record_trajectory_rating("a", 4)
        store.record_preference("a", "b", "a")
    assert store.get_feedback_summary()["total_ratings"] == 2


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match="action_space"):
        HumanFeedbackCollector(action_space=3)
    with pytest.raises(ValueError, match="clock"):
        HumanFeedbackCollector(clock=5)


@settings(max_examples=60, deadline=None)
@given(st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-10, 10)))
def test_a_rating_is_stored_if_and_only_if_it_is_valid(rating):
    fb = HumanFeedbackCollector(clock=lambda: 0.0)
    valid = math.isfinite(rating) and 1 <= rating <= 5
    if valid:
        fb.record_trajectory_rating("t", rating)
    else:
        with pytest.raises(ValueError):
            fb.record_trajectory_rating("t", rating)
    assert fb.get_feedback_summary()["total_ratings"] == int(valid)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c", "tie", ""]), st.sampled_from(["a", "b", "c"]),
                          st.sampled_from(["a", "b", "c", "tie", "x"])), max_size=12))
def test_any_sequence_of_preferences_stores_exactly_the_valid_ones(triples):
    fb = HumanFeedbackCollector(clock=lambda: 0.0)
    expected = []
    for a, b, preferred in triples:
        ok = a not in ("", "tie") and a != b and preferred in (a, b, "tie")
        try:
            fb.record_preference(a, b, preferred)
            stored = True
        except ValueError:
            stored = False
        assert stored == ok
        if ok:
            expected.append((a, b, preferred))
    assert [(p["trajectory_a"], p["trajectory_b"], p["preferred"]) for p in fb.preferences()] == expected


WRITER = textwrap.dedent(
    """
    import sys
    from rl_best_practices.feedback import HumanFeedbackCollector
    fb = HumanFeedbackCollector(sys.argv[1], clock=lambda: 0.0)
    for i in range(100000):
        fb.record_trajectory_rating(f"traj-{i}", 1 + i % 5, record_id=f"r-{i}")
        print(f"r-{i}", flush=True)   # acknowledged: the commit has returned
    """
)


def test_every_acknowledged_record_survives_a_killed_writer(tmp_path):
    path = tmp_path / "fb.sqlite"
    child = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True)
    acknowledged = []
    for line in child.stdout:
        acknowledged.append(line.strip())
        if len(acknowledged) == 50:
            os.kill(child.pid, signal.SIGKILL)
            break
    acknowledged += [line.strip() for line in child.stdout]  # anything already in the pipe
    child.wait()
    assert child.returncode == -signal.SIGKILL
    with HumanFeedbackCollector(path) as fb:
        stored = fb.record_ids()
    assert set(acknowledged) <= stored
    assert len(stored) - len(acknowledged) <= 1  # at most the one being committed when killed


def test_export_parquet_writes_every_table(store, tmp_path):
    store.record_trajectory_rating("t1", 5, "great")
    store.record_action_correction([0.1, 0.2], 2, 1)
    store.record_action_correction([0.3, 0.4], 0, 0)
    store.record_preference("t1", "t2", TIE)
    paths = store.export_parquet(tmp_path / "export")
    assert sorted(paths) == ["corrections", "preferences", "ratings"]
    corrections = pq.read_table(paths["corrections"]).to_pylist()
    assert [c["state"] for c in corrections] == [pytest.approx([0.1, 0.2]), pytest.approx([0.3, 0.4])]
    assert [c["human_action"] for c in corrections] == [[1.0], [0.0]]
    assert pq.read_table(paths["preferences"]).column("preferred").to_pylist() == [TIE]
    assert pq.read_table(paths["ratings"]).column("comments").to_pylist() == ["great"]


def test_corrections_become_one_step_episodes_for_behaviour_cloning(store, tmp_path):
    with pytest.raises(ValueError, match="no corrections"):
        store.export_corrections(tmp_path / "none")
    store.record_action_correction([0.1, 0.2], 2, 1)
    store.record_action_correction([0.3, 0.4], 0, 2)
    states, actions = store.correction_arrays()
    assert states.shape == (2, 2) and actions.tolist() == [1, 2]
    table = pq.read_table(store.export_corrections(tmp_path / "bc") / "data.parquet")
    assert set(table.column_names) == OFFLINE_COLUMNS
    assert table.column("actions").to_pylist() == [1, 2]
    assert table.column("truncateds").to_pylist() == [True, True]


def test_the_reference_policy_beats_flat_and_recording_matches_evaluation(tmp_path):
    seeds = [0, 1, 2]
    returns = record_episodes(signal_policy, seeds, tmp_path, {"episode_length": 50})
    np.testing.assert_allclose(returns, evaluate_policy(signal_policy, seeds, {"episode_length": 50}))
    assert returns.mean() > 0
    table = pq.read_table(tmp_path / "data.parquet")
    assert set(table.column_names) == OFFLINE_COLUMNS and table.num_rows == 150
    rewards = np.array(table.column("rewards").to_pylist()).reshape(3, 50)
    np.testing.assert_allclose(rewards.sum(axis=1), returns)
    assert table.column("truncateds").to_pylist().count(True) == 3
    obs, new_obs = (np.array(table.column(c).to_pylist()) for c in ("obs", "new_obs"))
    np.testing.assert_array_equal(obs[1:50], new_obs[:49])  # consecutive steps chain up


def test_offline_writer_and_config_reject_bad_input(tmp_path):
    with pytest.raises(ValueError, match="one value per transition"):
        write_offline_parquet(tmp_path, eps_id=["a"], obs=np.zeros((2, 5)), actions=[1, 1],
                              rewards=[0, 0], new_obs=np.zeros((2, 5)), terminateds=[0, 0],
                              truncateds=[0, 1], t=[0, 1])
    with pytest.raises(ValueError, match="seeds"):
        record_episodes(signal_policy, [], tmp_path)
    with pytest.raises(FileNotFoundError, match="no Parquet files"):
        bc_config(tmp_path / "empty")
    record_episodes(signal_policy, [0], tmp_path, {"episode_length": 5})
    with pytest.raises(ValueError, match="seed"):
        bc_config(tmp_path, seed=-1)
    with pytest.raises(ValueError, match="train_batch_size"):
        bc_config(tmp_path, train_batch_size=0)


def test_bc_config_runs_the_reader_once_on_a_local_learner(tmp_path):
    record_episodes(signal_policy, [0], tmp_path, {"episode_length": 5})
    cfg = bc_config(tmp_path, seed=3, train_batch_size=64)
    assert cfg.num_learners == 0 and cfg.map_batches_kwargs["concurrency"] == 1
    assert cfg.input_ == [str(tmp_path.resolve())] and cfg.seed == 3
    assert cfg.train_batch_size_per_learner == 64


@pytest.fixture(scope="module")
def ray_session():
    from rl_best_practices import rllib

    yield rllib.start_ray(num_cpus=2)
    rllib.stop_ray()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_bc_learns_the_reference_rule_from_recorded_episodes(ray_session, tmp_path):
    env_config = {"episode_length": 100}
    record_episodes(signal_policy, range(10), tmp_path, env_config)
    algo = bc_config(tmp_path, env_config, seed=0, train_batch_size=256, lr=3e-3).build_algo()
    try:
        losses = [algo.train()["learners"]["default_policy"]["policy_loss"] for _ in range(8)]
        from rl_best_practices import rllib

        policy = rllib.greedy_policy(algo)
        obs = np.array([[1.5, 0.0, 0, 0, 0], [-1.5, 0.0, 0, 0, 0]], np.float32)
        assert [policy(o) for o in obs] == [2, 0]  # buys on a strong signal, sells on a weak one
        assert losses[-1] < losses[0]
    finally:
        algo.stop()


def test_summary_counts_and_averages(store):
    assert store.get_feedback_summary()["avg_rating"] is None
    store.record_trajectory_rating("a", 2)
    store.record_trajectory_rating("a", 5)
    store.record_trajectory_rating("b", 4)
    store.record_action_correction([0.0], 2, 1)
    store.record_action_correction([0.0], 1, 1)
    summary = store.get_feedback_summary()
    assert summary["avg_rating"] == pytest.approx(11 / 3, abs=1e-6)
    assert summary["rated_trajectories"] == 2
    assert (summary["total_corrections"], summary["corrections_changing_the_action"]) == (2, 1)
    json.dumps(summary)  # plain JSON types
