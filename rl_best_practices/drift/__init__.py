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

The RLlib callback that logs those reports during training is
:class:`rl_best_practices.rllib.DriftMetricsCallback` (Ray is imported only there).

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> detector = DistributionShiftDetector(reference_size=5000, window_size=500)
>>> detector.update_reference(rng.normal(size=(5000, 3)))
>>> detector.add_observations(rng.normal(loc=[0.0, 0.0, 0.5], size=(500, 3)))
>>> [f["name"] for f in detector.check_shift(threshold=0.05)["features"] if f["drifted"]]
['x2']
"""

from rl_best_practices.drift.detector import (
    CORRECTIONS,
    DistributionShiftDetector,
    calibrate_threshold,
)
from rl_best_practices.drift.monitor import ShiftMonitor
from rl_best_practices.drift.two_sample import (
    KS_METHODS,
    PSI_FLOOR,
    ks_2samp_sorted,
    population_stability_index,
)

__all__ = [
    "CORRECTIONS",
    "KS_METHODS",
    "PSI_FLOOR",
    "DistributionShiftDetector",
    "ShiftMonitor",
    "calibrate_threshold",
    "ks_2samp_sorted",
    "population_stability_index",
]
