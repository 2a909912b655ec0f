"""PolicyMonitor (actions, rewards, decision latency in info) and FallbackSwitch."""

import numpy as np
import pytest

from rl_best_practices.drift import (
    ActionMonitor,
    CusumDetector,
    FallbackSwitch,
    LatencyMonitor,
    PolicyMonitor,
)
from rl_best_practices.envs import MarketEnv
from rl_best_practices.errors import InvalidTypeError, InvalidValueError


def ticking_clock(step=0.002):
    now = [0.0]

    def clock():
        now[0] += step
        return now[0]
    return clock


def test_all_three_monitors_report_in_info():
    env = PolicyMonitor(
        MarketEnv({"episode_length": 100}),
        action_monitor=ActionMonitor(np.tile([0, 1, 2], 50), n_actions=3, window_size=20),
        reward_detector=CusumDetector(0.0, 50.0, k=0.5, h=50.0),
        latency_monitor=LatencyMonitor(0.001, 0.005, window_size=20),
        clock=ticking_clock(),
    )
    env.reset(seed=0)
    infos = [env.step(2)[-1] for _ in range(40)]  # always buy: far from the reference mix
    action_reports = [i["monitors"]["action"] for i in infos if "action" in i["monitors"]]
    latency_reports = [i["monitors"]["latency"] for i in infos if "latency" in i["monitors"]]
    assert len(action_reports) == 2 and all(r["shift_detected"] for r in action_reports)
    assert len(latency_reports) == 2
    # each decision takes one clock tick (0.002 s): over the p50 budget of 0.001
    assert latency_reports[0]["p50"] == pytest.approx(0.002) and latency_reports[0]["over_budget"]
    assert all(i["monitors"]["reward"]["n_observed"] == k + 1 for k, i in enumerate(infos))
    assert list(env.alarms) == [(20, "action"), (20, "latency"), (40, "action"), (40, "latency")]
    assert infos[19]["monitors"]["alarms"] == ["action", "latency"]


def test_a_reward_drop_raises_the_reward_alarm():
    class Losing(MarketEnv):
        def step(self, action):
            obs, reward, terminated, truncated, info = super().step(action)
            return obs, -40.0, terminated, truncated, info

    env = PolicyMonitor(Losing(), reward_detector=CusumDetector(0.0, 10.0, k=0.5, h=5.0,
                                                                direction="down"))
    env.reset(seed=0)
    alarms = [env.step(1)[-1]["monitors"]["reward"]["alarm"] for _ in range(5)]
    assert alarms == [False, True, False, True, False]  # 3.5 per step, h = 5
    assert list(env.alarms) == [(2, "reward"), (4, "reward")]


@pytest.mark.parametrize("action", [3, -1, 1.5, "buy"])
def test_actions_outside_the_space_are_refused_before_anything_happens(action):
    monitor = ActionMonitor([0, 1, 2], n_actions=3, window_size=5)
    env = PolicyMonitor(MarketEnv(), action_monitor=monitor)
    env.reset(seed=0)
    with pytest.raises(InvalidValueError, match="outside the action space"):
        env.step(action)
    assert monitor.n_observed == 0 and env.steps == 0 and env.unwrapped._t == 0


def test_continuous_actions_go_to_a_ks_monitor():
    reference = np.random.default_rng(0).uniform(-10, 10, size=1000)
    env = PolicyMonitor(MarketEnv({"action_type": "continuous"}),
                        action_monitor=ActionMonitor(reference, window_size=50))
    env.reset(seed=0)
    infos = [env.step(np.array([9.5], dtype=np.float32))[-1] for _ in range(50)]
    assert infos[-1]["monitors"]["action"]["test"] == "ks"
    assert infos[-1]["monitors"]["alarms"] == ["action"]
    with pytest.raises(InvalidValueError):
        env.step(np.array([np.nan], dtype=np.float32))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"action_monitor": "monitor"}, "action_monitor must be a ActionMonitor"),
        ({"reward_detector": 1.0}, "reward_detector must be a CusumDetector"),
        ({"latency_monitor": []}, "latency_monitor must be a LatencyMonitor"),
        ({"clock": 0}, "clock must be callable"),
    ],
)
def test_bad_monitors_are_refused(kwargs, message):
    with pytest.raises(InvalidTypeError, match=message):
        PolicyMonitor(MarketEnv(), **kwargs)


def test_fallback_switch_trips_and_restores_with_a_log():
    switch = FallbackSwitch(lambda obs: 2, lambda obs: 1)
    assert switch(None) == 2 and switch.active == "policy"
    switch.trip("reward alarm at step 340")
    assert switch(None) == 1 and switch.active == "fallback"
    switch.restore("retrained policy passed its canary")
    assert switch(None) == 2
    assert [event for event, _ in switch.log] == ["trip", "restore"]
    with pytest.raises(InvalidTypeError):
        FallbackSwitch("policy", lambda obs: 1)
    with pytest.raises(InvalidValueError):
        switch.trip("")
