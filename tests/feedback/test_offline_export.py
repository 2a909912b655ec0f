"""Exports of the feedback store and recorded episodes as Parquet, in RLlib's offline format."""

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from gymnasium import spaces

from rl_best_practices import errors
from rl_best_practices.envs import evaluate_policy
from rl_best_practices.feedback import (
    OFFLINE_COLUMNS,
    TIE,
    HumanFeedbackCollector,
    record_episodes,
    write_offline_parquet,
)
from rl_best_practices.scenarios import signal_policy

# ray.rllib.core.columns.Columns, spelled out so a renamed column fails this test
RLLIB_COLUMNS = {"eps_id", "obs", "actions", "rewards", "new_obs", "terminateds", "truncateds", "t"}


@pytest.fixture
def store(tmp_path):
    fb = HumanFeedbackCollector(
        tmp_path / "fb.sqlite", action_space=spaces.Discrete(3), clock=lambda: 0.0
    )
    yield fb
    fb.close()


def test_export_parquet_writes_every_table(store, tmp_path):
    store.record_trajectory_rating("t1", 5, "great")
    store.record_action_correction([0.1, 0.2], 2, 1)
    store.record_action_correction([0.3, 0.4], 0, 0)
    store.record_preference("t1", "t2", TIE)
    paths = store.export_parquet(tmp_path / "export")
    assert sorted(paths) == ["corrections", "preferences", "ratings"]
    corrections = pq.read_table(paths["corrections"]).to_pylist()
    states = [c["state"] for c in corrections]
    assert states == [pytest.approx([0.1, 0.2]), pytest.approx([0.3, 0.4])]
    assert [c["human_action"] for c in corrections] == [[1.0], [0.0]]
    assert pq.read_table(paths["preferences"]).column("preferred").to_pylist() == [TIE]
    assert pq.read_table(paths["ratings"]).column("comments").to_pylist() == ["great"]
    assert not list((tmp_path / "export").glob(".*.tmp"))  # renamed into place


def test_an_empty_store_exports_empty_tables_with_a_record_id_column(store, tmp_path):
    paths = store.export_parquet(tmp_path / "new" / "export")  # missing parents are made
    assert {name: pq.read_table(path).num_rows for name, path in paths.items()} == {
        "ratings": 0, "corrections": 0, "preferences": 0
    }
    for path in paths.values():
        assert pq.read_table(path).schema == pa.schema([("record_id", pa.string())])
    store.record_trajectory_rating("t1", 4)
    again = store.export_parquet(tmp_path / "new" / "export")  # the folder exists: overwritten
    assert pq.read_table(again["ratings"]).column("record_id").to_pylist() == ["rating-1"]


def test_exported_states_and_actions_are_float_lists_even_when_given_as_integers(store, tmp_path):
    store.record_action_correction([1, 2], 2, 1)
    table = pq.read_table(store.export_parquet(tmp_path / "export")["corrections"])
    for column in ("state", "policy_action", "human_action"):
        assert table.schema.field(column).type == pa.list_(pa.float64())
    assert table.column("state").to_pylist() == [[1.0, 2.0]]


def test_corrections_become_one_step_episodes_for_behaviour_cloning(store, tmp_path):
    with pytest.raises(errors.InvalidValueError, match="no corrections"):
        store.export_corrections(tmp_path / "none")
    store.record_action_correction([0.1, 0.2], 2, 1)
    store.record_action_correction([0.3, 0.4], 0, 2)
    states, actions = store.correction_arrays()
    assert states.shape == (2, 2) and actions.tolist() == [1, 2]
    table = pq.read_table(store.export_corrections(tmp_path / "bc") / "data.parquet")
    assert set(table.column_names) == RLLIB_COLUMNS == set(OFFLINE_COLUMNS)
    assert table.column("actions").to_pylist() == [1, 2]
    assert table.column("truncateds").to_pylist() == [True, True]
    assert table.column("terminateds").to_pylist() == [False, False]
    assert len(set(table.column("eps_id").to_pylist())) == 2  # one episode per correction


def test_recording_matches_evaluation_and_steps_chain_up(tmp_path):
    seeds, env_config = [0, 1, 2], {"episode_length": 50}
    returns = record_episodes(signal_policy, seeds, tmp_path, env_config)
    np.testing.assert_allclose(returns, evaluate_policy(signal_policy, seeds, env_config))
    table = pq.read_table(tmp_path / "data.parquet")
    assert set(table.column_names) == RLLIB_COLUMNS | {"action_logp"} and table.num_rows == 150
    assert table.column("action_logp").to_pylist() == [0.0] * 150  # deterministic: probability 1
    rewards = np.array(table.column("rewards").to_pylist()).reshape(3, 50)
    np.testing.assert_allclose(rewards.sum(axis=1), returns)
    assert table.column("truncateds").to_pylist().count(True) == 3
    assert table.column("t").to_pylist()[:3] == [0, 1, 2]
    assert sorted(set(table.column("eps_id").to_pylist())) == ["seed-0", "seed-1", "seed-2"]
    obs, new_obs = (np.array(table.column(c).to_pylist()) for c in ("obs", "new_obs"))
    np.testing.assert_array_equal(obs[1:50], new_obs[:49])  # consecutive steps chain up


def test_the_offline_writer_needs_one_value_per_transition(tmp_path):
    with pytest.raises(errors.InvalidValueError, match="one value per transition"):
        write_offline_parquet(tmp_path, eps_id=["a"], obs=np.zeros((2, 5)), actions=[1, 1],
                              rewards=[0, 0], new_obs=np.zeros((2, 5)), terminateds=[0, 0],
                              truncateds=[0, 1], t=[0, 1])
    assert not (tmp_path / "data.parquet").exists()


def test_record_episodes_rejects_bad_arguments(tmp_path):
    with pytest.raises(errors.InvalidValueError, match="seeds must hold at least one seed"):
        record_episodes(signal_policy, [], tmp_path)
    with pytest.raises(errors.InvalidTypeError, match="seed must be an integer >= 0, got True"):
        record_episodes(signal_policy, [True], tmp_path)
    with pytest.raises(errors.InvalidValueError, match="seed must be an integer >= 0, got -1"):
        record_episodes(signal_policy, [-1], tmp_path)
    with pytest.raises(errors.InvalidTypeError, match="policy must be callable"):
        record_episodes(None, [0], tmp_path)
    with pytest.raises(errors.InvalidValueError, match="not both"):
        record_episodes(signal_policy, [0], tmp_path, action_probs=lambda obs: [1, 0, 0])
    with pytest.raises(errors.InvalidValueError, match="must sum to 1"):
        record_episodes(None, [0], tmp_path, action_probs=lambda obs: [0.5, 0.1, 0.1])
    with pytest.raises(errors.InvalidValueError, match="non-negative probability per action"):
        record_episodes(None, [0], tmp_path, action_probs=lambda obs: [1.5, -0.5, 0.0])
    assert not (tmp_path / "data.parquet").exists()


def test_a_stochastic_behaviour_is_sampled_as_seeded_and_its_probabilities_logged(tmp_path):
    probs = np.array([0.2, 0.5, 0.3])
    config = {"episode_length": 300}
    returns = record_episodes(None, [0, 1], tmp_path / "a", config, action_probs=lambda o: probs,
                              seed=4)
    again = record_episodes(None, [0, 1], tmp_path / "b", config, action_probs=lambda o: probs,
                            seed=4)
    other = record_episodes(None, [0, 1], tmp_path / "c", config, action_probs=lambda o: probs,
                            seed=5)
    np.testing.assert_array_equal(returns, again)
    assert not np.array_equal(returns, other)
    table = pq.read_table(tmp_path / "a" / "data.parquet")
    actions = np.array(table.column("actions").to_pylist())
    np.testing.assert_allclose(table.column("action_logp").to_numpy(), np.log(probs[actions]))
    # 600 draws: each frequency within 4.5 standard errors of its probability
    freq = np.bincount(actions, minlength=3) / len(actions)
    assert np.all(np.abs(freq - probs) < 4.5 * np.sqrt(probs * (1 - probs) / len(actions)))
