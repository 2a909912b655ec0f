"""Validation of feedback records before they are stored (pure functions, no database)."""

import json
import math

import numpy as np
import pytest
from gymnasium import spaces

from rl_best_practices import errors
from rl_best_practices.feedback import (
    TIE,
    action_value,
    correction_row,
    preference_row,
    rating_row,
)


def test_a_rating_row_holds_plain_values():
    row = rating_row("traj", np.float32(2.5), "ok")
    assert row == {"trajectory_id": "traj", "rating": 2.5, "comments": "ok"}
    assert type(row["rating"]) is float


@pytest.mark.parametrize("preferred", ["a", "b", TIE])
def test_a_preference_names_one_of_the_pair_or_a_tie(preferred):
    row = preference_row("a", "b", preferred)
    assert row == {"trajectory_a": "a", "trajectory_b": "b", "preferred": preferred}


def test_a_correction_row_is_json_and_reports_the_state_shape():
    row, shape = correction_row(np.zeros((2, 3)), np.int64(2), 1, "too volatile")
    assert shape == (2, 3)
    assert json.loads(row["state"]) == [[0.0] * 3] * 2
    assert (json.loads(row["policy_action"]), json.loads(row["human_action"])) == (2, 1)
    assert row["reason"] == "too volatile"


@pytest.mark.parametrize("action", [True, np.bool_(False), np.array(True)])
def test_a_boolean_action_is_a_type_error(action):
    with pytest.raises(errors.InvalidTypeError, match="human_action must be a number") as info:
        action_value("human_action", action)
    assert isinstance(info.value, TypeError) and isinstance(info.value, ValueError)


def test_actions_keep_their_kind_and_fit_the_space():
    assert action_value("a", np.array(2)) == 2
    assert action_value("a", 2.0, spaces.Discrete(3)) == 2  # a whole float in a discrete space
    assert action_value("a", [0.25, -1.0]) == [0.25, -1.0]
    box = spaces.Box(-1.0, 1.0, shape=(2,))
    assert action_value("a", [0.5, -0.5], box) == [0.5, -0.5]
    with pytest.raises(errors.InvalidValueError, match=r"a \[2.0, 0.0\] is not in the action"):
        action_value("a", [2.0, 0.0], box)
    with pytest.raises(errors.InvalidValueError, match="a 2.5 is not in the action space"):
        action_value("a", 2.5, spaces.Discrete(3))


@pytest.mark.parametrize(
    "call",
    [
        lambda: rating_row("t", 0),
        lambda: rating_row("t", "4"),
        lambda: rating_row("", 3),
        lambda: rating_row("t", 3, comments=None),
        lambda: preference_row("a", "a", "a"),
        lambda: correction_row([math.nan], 0, 1),
        lambda: correction_row([0.0], "buy", 1),
        lambda: action_value("a", [], None),
    ],
)
def test_every_refusal_is_a_package_error_and_a_value_error(call):
    with pytest.raises(errors.Error) as info:
        call()
    assert isinstance(info.value, ValueError)
