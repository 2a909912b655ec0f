"""The one running-statistics class, checked against Gymnasium's and numpy's."""

import numpy as np
import pytest
from gymnasium.wrappers.utils import RunningMeanStd as GymRunningMeanStd
from hypothesis import given
from hypothesis import strategies as st

from rl_best_practices.errors import InvalidTypeError, InvalidValueError
from rl_best_practices.running_stats import RunningMeanStd


@given(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=200))
def test_running_statistics_match_gymnasium_and_numpy(xs):
    ours, theirs = RunningMeanStd(), GymRunningMeanStd(shape=())
    for x in xs:
        ours.update(x)
        theirs.update(np.array([x]))
    assert ours.mean == pytest.approx(float(theirs.mean), rel=1e-9, abs=1e-6)
    assert ours.var == pytest.approx(float(theirs.var), rel=1e-9, abs=1e-6)
    exact = RunningMeanStd(prior_count=0.0)
    for x in xs:
        exact.update(x)
    assert exact.mean == pytest.approx(np.mean(xs), rel=1e-9, abs=1e-6)
    assert exact.var == pytest.approx(np.var(xs), rel=1e-7, abs=1e-3)


def test_statistics_round_trip_and_refuse_bad_values():
    stats = RunningMeanStd(prior_count=0.0)
    for x in (1.0, 5.0):
        stats.update(x)
    copy = RunningMeanStd.from_dict(stats.to_dict())
    assert (copy.mean, copy.var, copy.count) == (3.0, 4.0, 2.0)
    with pytest.raises(InvalidValueError, match="var must be a finite number >= 0"):
        RunningMeanStd.from_dict({"mean": 0.0, "var": -1.0, "count": 1.0})
    with pytest.raises(InvalidTypeError, match="prior_count"):
        RunningMeanStd(prior_count=True)
