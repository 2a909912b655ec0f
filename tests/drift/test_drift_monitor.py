"""ShiftMonitor: a Gymnasium wrapper that feeds a detector and reports checks in ``info``."""

import numpy as np
import pytest

from rl_best_practices.drift import DistributionShiftDetector, ShiftMonitor
from rl_best_practices.envs import MarketEnv
from rl_best_practices.errors import Error, InvalidTypeError, InvalidValueError


def test_shift_monitor_reports_in_info_during_market_episodes():
    rng = np.random.default_rng(8)
    base = MarketEnv({"episode_length": 200})
    reference = []
    for seed in range(10):
        obs, _ = base.reset(seed=seed)
        for _ in range(200):
            obs, *_ = base.step(int(rng.integers(3)))
            reference.append(obs)
    det = DistributionShiftDetector(reference_size=2000, window_size=400,
                                    feature_names=MarketEnv.OBSERVATION_NAMES)
    det.update_reference(np.array(reference))
    env = ShiftMonitor(MarketEnv({"episode_length": 200, "regime_switch_step": 0}), det)
    infos = []
    for seed in (100, 101):
        env.reset(seed=seed)
        infos += [env.step(int(rng.integers(3)))[-1] for _ in range(200)]
    reports = [info["drift"] for info in infos if "drift" in info]
    assert len(reports) == 1 == len(env.reports)
    assert env.reports[0][0] == 400  # 2 resets + 398 steps
    drifted = {f["name"] for f in reports[0]["features"] if f["drifted"]}
    assert "last_return" in drifted and reports[0]["recommendation"] == "retrain"


def test_shift_monitor_watches_only_the_chosen_features():
    det = DistributionShiftDetector(reference_size=100, window_size=10)
    env = ShiftMonitor(MarketEnv(), det, features=[2, 0])
    obs, _ = env.reset(seed=0)
    np.testing.assert_array_equal(det.window, obs[[2, 0]][None, :])


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"detector": "detector"}, InvalidTypeError, "DistributionShiftDetector, got str"),
        ({"threshold": 2.0}, InvalidValueError, "threshold"),
        ({"features": [5]}, InvalidValueError, r"features must be distinct indices in \[0, 5\)"),
        ({"features": [1, 1]}, InvalidValueError, "distinct"),
        ({"features": []}, InvalidValueError, "distinct"),
        ({"max_reports": 0}, InvalidValueError, "max_reports"),
    ],
)
def test_shift_monitor_rejects_bad_arguments(kwargs, error, message):
    kwargs = {"detector": DistributionShiftDetector(), **kwargs}
    with pytest.raises(error, match=message):
        ShiftMonitor(MarketEnv(), **kwargs)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"threshold": True}, "threshold must be a finite number"),
        ({"threshold": "0.05"}, "threshold must be a finite number"),
        ({"features": [True]}, r"features\[0\] must be an integer"),
        ({"features": [0, 1.5]}, r"features\[1\] must be an integer"),
        ({"features": 2}, "features must be a sequence of indices"),
        ({"features": "02"}, "features must be a sequence of indices"),
        ({"max_reports": True}, "max_reports must be an integer"),
        ({"max_reports": 10.0}, "max_reports must be an integer"),
    ],
)
def test_shift_monitor_refuses_wrong_types(kwargs, message):
    with pytest.raises(InvalidTypeError, match=message) as info:
        ShiftMonitor(MarketEnv(), DistributionShiftDetector(), **kwargs)
    assert isinstance(info.value, TypeError) and isinstance(info.value, ValueError)
    assert isinstance(info.value, Error)


def test_shift_monitor_accepts_numpy_indices():
    det = DistributionShiftDetector(reference_size=100, window_size=10)
    env = ShiftMonitor(MarketEnv(), det, features=np.array([2, 0]))
    assert env.features == [2, 0] and all(type(i) is int for i in env.features)


def test_shift_monitor_range_errors_are_invalid_values_not_types():
    with pytest.raises(InvalidValueError) as info:
        ShiftMonitor(MarketEnv(), DistributionShiftDetector(), features=[-1])
    assert not isinstance(info.value, TypeError)
