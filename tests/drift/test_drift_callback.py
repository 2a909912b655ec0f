"""DriftMetricsCallback with ShiftMonitor in an RLlib run (needs Ray; trains one iteration)."""

import numpy as np

from rl_best_practices import rllib
from rl_best_practices.drift import DistributionShiftDetector, ShiftMonitor
from rl_best_practices.envs import MarketEnv
from rl_best_practices.rllib import DriftMetricsCallback


def monitored_market(config):
    detector = DistributionShiftDetector(2000, window_size=100)
    detector.update_reference(np.random.default_rng(0).normal(size=(2000, 1)))
    return ShiftMonitor(MarketEnv(config), detector, features=[2])


def test_drift_callback_logs_checks_from_an_rllib_run():
    """ShiftMonitor inside RLlib's env runner; DriftMetricsCallback logs with metrics_logger."""
    rllib.start_ray(num_cpus=2)
    algo = rllib.ppo_config(monitored_market, {"episode_length": 50}, train_batch_size=400,
                            minibatch_size=200, num_epochs=1,
                            callbacks=DriftMetricsCallback).build_algo()
    try:
        runners = algo.train()["env_runners"]
    finally:
        algo.stop()
        rllib.stop_ray()
    assert runners["drift/checks"] == 400 // 100  # one check per 100 observations
    assert 0.0 <= runners["drift/alarm_rate"] <= 1.0
    assert 0.0 <= runners["drift/min_family_p_value"] <= 1.0
    assert runners["drift/psi/x0"] >= 0.0
