"""Distribution shift detection for a deployed policy's observations (lesson 03).

The parts, each read on its own:

* :mod:`~rl_best_practices.drift.two_sample`: the statistics of one feature,
  :func:`ks_2samp_sorted` (the two-sample Kolmogorov-Smirnov test against a sorted reference,
  checked against ``scipy.stats.ks_2samp``) and :func:`population_stability_index` (PSI).
* :mod:`~rl_best_practices.drift.detector`: :class:`DistributionShiftDetector` (a reference
  against a ring-buffer window, calibrated over features by a multiple-testing correction) and
  :func:`calibrate_threshold` (a threshold set from clean streams, for a budget of false alarms).
* :mod:`~rl_best_practices.drift.monitor`: :class:`ShiftMonitor`, a Gymnasium wrapper that feeds
  an environment's observations to a detector and reports each check in ``info["drift"]``.

Beyond the inputs, the rest of what a deployed policy does:

* :mod:`~rl_best_practices.drift.actions`: :class:`ActionMonitor`, the action distribution
  against a reference (G-test for discrete actions, KS for continuous ones), with
  :func:`calibrate_action_threshold`.
* :mod:`~rl_best_practices.drift.change`: :class:`CusumDetector`, a sequential change detector
  for rewards or P&L, calibrated by its average run length without change (ARL0):
  :func:`siegmund_arl0`, :func:`siegmund_delay`, :func:`cusum_threshold`, :func:`calibrate_cusum`,
  :func:`run_lengths`.
* :mod:`~rl_best_practices.drift.latency`: :class:`LatencyMonitor`, p50/p99 against budgets.
* :mod:`~rl_best_practices.drift.policy_monitor`: :class:`PolicyMonitor`, a Gymnasium wrapper
  that runs those three at every step, and :class:`FallbackSwitch`, the first response to an
  alarm.

The RLlib callbacks that log those reports during training are
:class:`rl_best_practices.rllib.DriftMetricsCallback` and
:class:`rl_best_practices.rllib.MonitorMetricsCallback` (Ray is imported only there).

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> detector = DistributionShiftDetector(reference_size=5000, window_size=500)
>>> detector.update_reference(rng.normal(size=(5000, 3)))
>>> detector.add_observations(rng.normal(loc=[0.0, 0.0, 0.5], size=(500, 3)))
>>> [f["name"] for f in detector.check_shift(threshold=0.05)["features"] if f["drifted"]]
['x2']
"""

from rl_best_practices.drift.actions import ActionMonitor, calibrate_action_threshold
from rl_best_practices.drift.change import (
    DIRECTIONS,
    CusumDetector,
    calibrate_cusum,
    cusum_threshold,
    run_lengths,
    siegmund_arl0,
    siegmund_delay,
)
from rl_best_practices.drift.detector import (
    CORRECTIONS,
    DistributionShiftDetector,
    calibrate_threshold,
)
from rl_best_practices.drift.latency import LatencyMonitor
from rl_best_practices.drift.monitor import ShiftMonitor
from rl_best_practices.drift.policy_monitor import FallbackSwitch, PolicyMonitor
from rl_best_practices.drift.two_sample import (
    KS_METHODS,
    PSI_FLOOR,
    ks_2samp_sorted,
    population_stability_index,
)

__all__ = [
    "CORRECTIONS",
    "DIRECTIONS",
    "KS_METHODS",
    "PSI_FLOOR",
    "ActionMonitor",
    "CusumDetector",
    "DistributionShiftDetector",
    "FallbackSwitch",
    "LatencyMonitor",
    "PolicyMonitor",
    "ShiftMonitor",
    "calibrate_action_threshold",
    "calibrate_cusum",
    "calibrate_threshold",
    "cusum_threshold",
    "ks_2samp_sorted",
    "population_stability_index",
    "run_lengths",
    "siegmund_arl0",
    "siegmund_delay",
]
