"""The feedback store: validation at the boundary, durability across processes and crashes."""

import math
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest
from gymnasium import spaces
from hypothesis import given, settings
from hypothesis import strategies as st

from rl_best_practices import errors
from rl_best_practices.envs import MarketEnv
from rl_best_practices.feedback import TIE, HumanFeedbackCollector


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        self.now += 1.0
        return self.now


@pytest.fixture
def store(tmp_path):
    fb = HumanFeedbackCollector(
        tmp_path / "fb.sqlite", action_space=spaces.Discrete(3), clock=FakeClock()
    )
    yield fb
    fb.close()


def test_a_record_waits_for_another_writers_lock_up_to_30_s(tmp_path):
    with HumanFeedbackCollector(tmp_path / "fb.sqlite") as store:
        assert store._conn.execute("PRAGMA busy_timeout").fetchone()[0] == 30_000
        other = sqlite3.connect(tmp_path / "fb.sqlite", isolation_level=None,
                                check_same_thread=False)
        other.execute("BEGIN IMMEDIATE")  # another process holds the write lock for 0.5 s
        threading.Timer(0.5, other.execute, ("COMMIT",)).start()
        started = time.perf_counter()
        store.record_trajectory_rating("a", 3)
        assert time.perf_counter() - started >= 0.4
        assert len(store.ratings()) == 1
        other.close()


def test_records_survive_a_new_collector_on_the_same_file(tmp_path):
    path = tmp_path / "fb.sqlite"
    with HumanFeedbackCollector(path, clock=FakeClock()) as fb:
        fb.record_trajectory_rating("traj_001", 4.5, "good risk management")
        fb.record_action_correction(np.array([0.5, 0.1, -0.2]), 2, 1, "too volatile")
        fb.record_preference("traj_001", "traj_002", "traj_001")
    with HumanFeedbackCollector(path) as again:
        summary = again.get_feedback_summary()
        counts = (
            summary["total_ratings"], summary["total_corrections"], summary["total_preferences"]
        )
        assert counts == (1, 1, 1)
        assert summary["avg_rating"] == 4.5
        assert again.ratings()[0]["comments"] == "good risk management"
        assert again.ratings()[0]["timestamp"] == 1001.0  # from the injected clock
        pair = again.get_correction_dataset()[0]
        np.testing.assert_allclose(pair["state"], [0.5, 0.1, -0.2])
        assert pair["action"] == 1


def test_a_store_in_a_new_folder_makes_the_folder(tmp_path):
    path = tmp_path / "new" / "nested" / "fb.sqlite"
    with HumanFeedbackCollector(path) as fb:
        fb.record_trajectory_rating("t", 3)
    assert path.is_file()


def test_the_database_uses_the_write_ahead_log(tmp_path):
    path = tmp_path / "fb.sqlite"
    HumanFeedbackCollector(path).close()
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_without_a_path_records_live_in_memory_only():
    fb = HumanFeedbackCollector()
    fb.record_trajectory_rating("t", 3)
    assert fb.path is None and fb.get_feedback_summary()["total_ratings"] == 1
    assert HumanFeedbackCollector().get_feedback_summary()["total_ratings"] == 0


@pytest.mark.parametrize("rating", [0, 0.999, 5.0001, 99, -1, math.nan, math.inf])
def test_ratings_outside_one_to_five_are_rejected(store, rating):
    with pytest.raises(
        errors.InvalidValueError, match=r"rating must be a finite number in \[1, 5\]"
    ):
        store.record_trajectory_rating("traj", rating)
    assert store.get_feedback_summary()["total_ratings"] == 0


@pytest.mark.parametrize("rating", ["4", None, True, np.bool_(True), [4]])
def test_ratings_that_are_not_numbers_are_type_errors(store, rating):
    with pytest.raises(errors.InvalidTypeError, match="rating must be a finite number") as info:
        store.record_trajectory_rating("traj", rating)
    assert isinstance(info.value, TypeError) and isinstance(info.value, ValueError)
    assert store.get_feedback_summary()["total_ratings"] == 0


@pytest.mark.parametrize("rating", [1, 1.0, 3.7, 5, np.float32(2.5), np.int64(4)])
def test_ratings_on_the_scale_are_accepted(store, rating):
    store.record_trajectory_rating("traj", rating)
    assert store.ratings()[0]["rating"] == pytest.approx(float(rating))


@pytest.mark.parametrize("trajectory_id", ["", "   ", None, 7])
def test_empty_or_non_string_ids_are_rejected(store, trajectory_id):
    with pytest.raises(errors.InvalidValueError, match="trajectory_id must be a non-empty string"):
        store.record_trajectory_rating(trajectory_id, 3)
    with pytest.raises(errors.InvalidValueError, match="trajectory_a must be a non-empty string"):
        store.record_preference(trajectory_id, "b", "b")
    with pytest.raises(errors.InvalidValueError, match="record_id must be a non-empty string"):
        store.record_trajectory_rating(
            "t", 3, record_id="" if trajectory_id is None else trajectory_id
        )
    assert store.record_ids() == set()


def test_comments_and_reasons_must_be_strings_but_may_be_empty(store):
    with pytest.raises(errors.InvalidTypeError, match="comments must be a string, got int"):
        store.record_trajectory_rating("t", 3, 5)
    with pytest.raises(errors.InvalidTypeError, match="reason must be a string, got NoneType"):
        store.record_action_correction([0.0], 1, 1, None)
    store.record_trajectory_rating("t", 3, "")
    store.record_action_correction([0.0], 1, 1, "")
    summary = store.get_feedback_summary()
    assert (summary["total_ratings"], summary["total_corrections"]) == (1, 1)


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
    with pytest.raises(errors.InvalidValueError, match=message):
        store.record_preference(a, b, preferred)
    assert store.get_feedback_summary()["total_preferences"] == 0


def test_a_tie_is_an_explicit_label(store):
    store.record_preference("a", "b", TIE)
    store.record_preference("a", "c", "c")
    summary = store.get_feedback_summary()
    assert summary["total_preferences"] == 2 and summary["ties"] == 1


@pytest.mark.parametrize(
    "state, error, message",
    [
        ([0.1, math.nan], errors.InvalidValueError, "finite"),
        ([math.inf, 0.0], errors.InvalidValueError, "finite"),
        ([], errors.InvalidValueError, "at least 1 value"),
        (3.0, errors.InvalidValueError, "non-empty array, got the scalar 3.0"),
        ("abc", errors.InvalidTypeError, "numeric"),
        ([[1.0], [2.0, 3.0]], errors.InvalidTypeError, "numeric"),
    ],
)
def test_states_must_be_finite_arrays(store, state, error, message):
    with pytest.raises(error, match=message):
        store.record_action_correction(state, 0, 1)
    assert store.get_feedback_summary()["total_corrections"] == 0


def test_states_must_keep_one_shape_also_after_reopening(tmp_path):
    path = tmp_path / "fb.sqlite"
    with HumanFeedbackCollector(path) as fb:
        fb.record_action_correction([0.1, 0.2, 0.3], 0, 1)
        with pytest.raises(errors.InvalidValueError, match=r"shape \(2,\).*shape \(3,\)"):
            fb.record_action_correction([0.1, 0.2], 0, 1)
    with HumanFeedbackCollector(path) as fb:
        with pytest.raises(errors.InvalidValueError, match="shape"):
            fb.record_action_correction(np.zeros((3, 1)), 0, 1)
        assert fb.get_feedback_summary()["total_corrections"] == 1


@pytest.mark.parametrize("action", [3, -1, 1.5, True, "buy", None, [0, 1], math.nan])
def test_actions_outside_the_action_space_are_rejected(store, action):
    with pytest.raises(errors.InvalidValueError, match="policy_action"):
        store.record_action_correction([0.0, 0.0], action, 1)
    with pytest.raises(errors.InvalidValueError, match="human_action"):
        store.record_action_correction([0.0, 0.0], 1, action)
    assert store.get_feedback_summary()["total_corrections"] == 0


def test_box_actions_are_checked_against_bounds_and_shape():
    env = MarketEnv({"action_type": "continuous"})
    fb = HumanFeedbackCollector(action_space=env.action_space)
    fb.record_action_correction(np.zeros(5), np.array([3.0], np.float32), [-2.5])
    for bad in ([11.0], [1.0, 2.0], 2.0):
        with pytest.raises(errors.InvalidValueError, match="not in the action space"):
            fb.record_action_correction(np.zeros(5), [0.0], bad)
    assert fb.get_correction_dataset()[0]["action"] == [-2.5]


def test_a_repeated_record_id_is_an_idempotent_retry_or_an_error(store):
    assert store.record_trajectory_rating("t1", 4, record_id="r-1") == "r-1"
    assert store.record_trajectory_rating("t1", 4, record_id="r-1") == "r-1"  # retry: stored once
    assert store.get_feedback_summary()["total_ratings"] == 1
    with pytest.raises(errors.InvalidValueError, match="already holds a different rating"):
        store.record_trajectory_rating("t1", 2, record_id="r-1")
    with pytest.raises(errors.InvalidValueError, match="already names a rating"):
        store.record_preference("a", "b", "a", record_id="r-1")
    assert store.ratings()[0]["rating"] == 4.0
    assert store.get_feedback_summary()["total_preferences"] == 0


def test_generated_ids_never_collide_with_explicit_ones(store):
    # The next generated rating id would be "rating-4": explicit records already hold it, and
    # "rating-4+"; an explicit id may also look like anything the store uses internally.
    for explicit in ["rating-4", "rating-4+", "XXXX"]:
        store.record_trajectory_rating("t", 3, record_id=explicit)
    generated = store.record_trajectory_rating("t", 4)
    assert generated == "rating-4++"
    assert [r["record_id"] for r in store.ratings()] == ["rating-4", "rating-4+", "XXXX",
                                                         "rating-4++"]


def test_a_failed_batch_keeps_none_of_its_records(store):
    store.record_trajectory_rating("before", 3)
    with pytest.raises(errors.InvalidValueError):
        with store.batch():
            store.record_trajectory_rating("inside", 4)
            store.record_trajectory_rating("inside", 99)
    assert [r["trajectory_id"] for r in store.ratings()] == ["before"]
    with store.batch():
        store.record_trajectory_rating("a", 4)
        store.record_preference("a", "b", "a")
    assert store.get_feedback_summary()["total_ratings"] == 2


def test_a_batch_inside_a_batch_is_refused_and_the_outer_one_is_rolled_back(store):
    with pytest.raises(errors.InvalidStateError, match="batches cannot be nested") as info:
        with store.batch():
            store.record_trajectory_rating("outer", 4)
            with store.batch():
                pass
    assert isinstance(info.value, RuntimeError)
    assert store.ratings() == []
    with store.batch():  # the store is usable again
        store.record_trajectory_rating("after", 4)
    assert [r["trajectory_id"] for r in store.ratings()] == ["after"]


@pytest.mark.parametrize("time", [math.nan, math.inf])
def test_a_clock_that_returns_no_finite_time_stores_nothing(time):
    fb = HumanFeedbackCollector(clock=lambda: time)
    with pytest.raises(errors.InvalidValueError, match="the clock's time must be a finite number"):
        fb.record_trajectory_rating("t", 3)
    assert fb.record_ids() == set()


def test_bad_constructor_arguments():
    with pytest.raises(errors.InvalidTypeError,
                       match="^action_space must be a Gymnasium space or None, got int$"):
        HumanFeedbackCollector(action_space=3)
    with pytest.raises(errors.InvalidTypeError, match="clock must be callable") as info:
        HumanFeedbackCollector(clock=5)
    assert isinstance(info.value, TypeError) and isinstance(info.value, ValueError)


@settings(max_examples=60, deadline=None)
@given(st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-10, 10)))
def test_a_rating_is_stored_if_and_only_if_it_is_valid(rating):
    fb = HumanFeedbackCollector(clock=lambda: 0.0)
    valid = math.isfinite(rating) and 1 <= rating <= 5
    if valid:
        fb.record_trajectory_rating("t", rating)
    else:
        with pytest.raises(errors.InvalidValueError):
            fb.record_trajectory_rating("t", rating)
    assert fb.get_feedback_summary()["total_ratings"] == int(valid)


PREFERENCE_TRIPLES = st.tuples(
    st.sampled_from(["a", "b", "c", "tie", ""]),
    st.sampled_from(["a", "b", "c"]),
    st.sampled_from(["a", "b", "c", "tie", "x"]),
)


@settings(max_examples=40, deadline=None)
@given(st.lists(PREFERENCE_TRIPLES, max_size=12))
def test_any_sequence_of_preferences_stores_exactly_the_valid_ones(triples):
    fb = HumanFeedbackCollector(clock=lambda: 0.0)
    expected = []
    for a, b, preferred in triples:
        ok = a not in ("", "tie") and a != b and preferred in (a, b, "tie")
        try:
            fb.record_preference(a, b, preferred)
            stored = True
        except errors.InvalidValueError:
            stored = False
        assert stored == ok
        if ok:
            expected.append((a, b, preferred))
    stored = [(p["trajectory_a"], p["trajectory_b"], p["preferred"]) for p in fb.preferences()]
    assert stored == expected


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
    child = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True
    )
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


@pytest.mark.parametrize("level, name", [(0, "OFF"), (1, "NORMAL"), (2, "FULL"), (3, "EXTRA")])
def test_durability_reports_the_connections_sync_level_as_sqlite_names_it(tmp_path, level, name):
    # The store always asks for FULL; the report must still say so if the connection held less.
    with HumanFeedbackCollector(tmp_path / "fb.sqlite") as fb:
        fb._conn.execute(f"PRAGMA synchronous={level}")
        assert fb.durability() == {"journal_mode": "wal", "synchronous": name}


def test_defaults_store_empty_comments_and_reasons(tmp_path):
    path = tmp_path / "fb.sqlite"
    with HumanFeedbackCollector(path, clock=FakeClock()) as fb:
        fb.record_trajectory_rating("t", 3)
        fb.record_action_correction([0.0], 1, 2)
    with sqlite3.connect(path) as other:
        assert other.execute("SELECT comments FROM ratings").fetchall() == [("",)]
        assert other.execute("SELECT reason FROM corrections").fetchall() == [("",)]


def test_a_correction_keeps_its_explicit_record_id_and_retries_idempotently(store):
    assert store.record_action_correction([0.5], 1, 2, record_id="c-7") == "c-7"
    assert store.record_action_correction([0.5], 1, 2, record_id="c-7") == "c-7"
    assert store.record_ids() == {"c-7"}
    with pytest.raises(errors.InvalidValueError,
                       match=r"^record_id 'c-7' already holds a different correction; a record id "
                       r"names one record \(repeat it only to retry the same record\)$"):
        store.record_action_correction([0.5], 1, 0, record_id="c-7")


def test_a_first_correction_racing_another_writers_first_of_another_shape_stores_nothing(
        tmp_path):
    # Both stores see no shape yet; the other writer's correction of shape (3,) commits while
    # this one is being recorded (from its clock call), so this one's shape (2,) is refused.
    path = tmp_path / "fb.sqlite"
    other = HumanFeedbackCollector(path, clock=lambda: 0.0)

    def racing_clock():
        other.record_action_correction([1.0, 2.0, 3.0], 0, 1)
        return 0.0

    with HumanFeedbackCollector(path, clock=racing_clock) as fb:
        with pytest.raises(errors.InvalidValueError,
                           match=r"^state_shape is already \[3\], got \[2\]$"):
            fb.record_action_correction([1.0, 2.0], 0, 1)
        assert fb.record_ids() == {"correction-1"}  # the other writer's only
        assert [p["state"].tolist() for p in fb.get_correction_dataset()] == [[1.0, 2.0, 3.0]]
    other.close()


def test_an_error_caught_inside_a_batch_keeps_the_batch_whole(store):
    store.record_trajectory_rating("t", 4, record_id="r-1")
    with store.batch() as batch:
        store.record_trajectory_rating("before", 3)
        with pytest.raises(errors.InvalidValueError, match="already holds a different rating"):
            store.record_trajectory_rating("t", 1, record_id="r-1")
        store.record_trajectory_rating("after", 5)
        with HumanFeedbackCollector(store.path) as reader:
            assert reader.record_ids() == {"r-1"}  # nothing of the batch before its commit
    assert batch.ids == ("rating-2", "rating-3")
    assert [r["trajectory_id"] for r in store.ratings()] == ["t", "before", "after"]


def test_correction_arrays_of_an_empty_store_and_of_integer_states(store):
    states, actions = store.correction_arrays()
    assert (states.shape, states.dtype, actions.shape) == ((0, 0), np.float32, (0,))
    store.record_action_correction([1, 2], 0, 2)
    states, actions = store.correction_arrays()
    assert states.dtype == np.float32 and states.tolist() == [[1.0, 2.0]]
    assert actions.tolist() == [2]


def test_summary_counts_and_averages(store):
    assert store.get_feedback_summary()["avg_rating"] is None
    store.record_trajectory_rating("a", 2)
    store.record_trajectory_rating("a", 5)
    store.record_trajectory_rating("b", 4)
    store.record_action_correction([0.0], 2, 1)
    store.record_action_correction([0.0], 1, 1)
    summary = store.get_feedback_summary()
    assert summary["avg_rating"] == 3.666667  # rounded to 6 decimals
    assert summary["rated_trajectories"] == 2
    assert (summary["total_corrections"], summary["corrections_changing_the_action"]) == (2, 1)
    assert {type(v) for v in summary.values()} <= {int, float}  # plain JSON types
