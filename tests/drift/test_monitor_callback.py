"""MonitorMetricsCallback with PolicyMonitor in an RLlib run (needs Ray; trains one iteration)."""

import numpy as np

from rl_best_practices import rllib
from rl_best_practices.drift import ActionMonitor, CusumDetector, LatencyMonitor, PolicyMonitor
from rl_best_practices.envs import MarketEnv
from rl_best_practices.rllib import MonitorMetricsCallback


def monitored_market(config):
    return PolicyMonitor(
        MarketEnv(config),
        action_monitor=ActionMonitor(np.tile([0, 1, 2], 100), n_actions=3, window_size=100),
        reward_detector=CusumDetector(0.0, 100.0, k=0.5, h=8.0),
        latency_monitor=LatencyMonitor(10.0, 20.0, window_size=100),
    )


def test_monitor_callback_logs_the_three_monitors_from_an_rllib_run():
    """PolicyMonitor inside RLlib's env runner; MonitorMetricsCallback logs with metrics_logger."""
    rllib.start_ray(num_cpus=2)
    algo = rllib.ppo_config(monitored_market, {"episode_length": 50}, train_batch_size=400,
                            minibatch_size=200, num_epochs=1,
                            callbacks=MonitorMetricsCallback).build_algo()
    try:
        runners = algo.train()["env_runners"]
    finally:
        algo.stop()
        rllib.stop_ray()
    assert runners["monitors/action_checks"] == 400 // 100  # one check per 100 actions
    assert 0.0 <= runners["monitors/action_p_value"] <= 1.0
    assert runners["monitors/reward_cusum"] >= 0.0
    # decisions of a tiny network on a CPU: far below the 10 s budget
    assert 0.0 <= runners["monitors/latency_p50"] <= runners["monitors/latency_p99"] < 10.0
    assert "monitors/alarms/latency" not in runners
