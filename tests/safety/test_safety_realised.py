"""The safety layer judged by the world: realised VaR breaches across margins (lesson 02)."""

import numpy as np
import pytest

from rl_best_practices.errors import InvalidTypeError, InvalidValueError
from rl_best_practices.safety import (
    SafetyLayer,
    margin_layer,
    margin_sweep,
    realised_breaches,
    signal_trader,
)

SEEDS = range(4)


def test_the_layers_own_checks_pass_yet_the_world_reports_breaches_a_margin_removes():
    sweep = margin_sweep([0.0, 0.1, 0.3], SEEDS)
    rates = [float(breaches.mean()) for _, breaches in sweep.values()]
    assert rates[0] > 0.05           # checked on the pre-move volatility: breaches remain
    assert rates[0] > rates[1] > rates[2] == 0.0
    pnl0, pnl3 = sweep[0.0][0], sweep[0.3][0]
    assert pnl0.shape == pnl3.shape == (4,) and pnl3.mean() < pnl0.mean()  # the margin costs P&L
    free, free_breaches = realised_breaches(lambda action, state: action, SEEDS)
    assert free_breaches.mean() > 0.5 > rates[0]      # no filter at all: most steps over 150


def test_every_margin_is_measured_on_the_same_episodes():
    direct = realised_breaches(margin_layer(0.1).filter_action, SEEDS)
    swept = margin_sweep([0.1], SEEDS)[0.1]
    for a, b in zip(direct, swept, strict=True):
        np.testing.assert_array_equal(a, b)


def test_breaches_are_counted_against_the_stated_cap():
    _, strict = realised_breaches(margin_layer(0.0).filter_action, [0], var_cap=100.0)
    _, loose = realised_breaches(margin_layer(0.0).filter_action, [0], var_cap=150.0)
    assert strict[0] > loose[0]


def test_a_policy_and_a_config_can_be_given():
    pnl, breaches = realised_breaches(lambda action, state: action, [0],
                                      policy=lambda obs: np.zeros(1),
                                      config={"action_type": "continuous", "episode_length": 50})
    assert pnl[0] == 0.0 and breaches[0] == 0.0   # never trading: no P&L and no risk
    assert signal_trader(5)(np.array([-0.1]))[0] == -5.0


def test_margin_layer_checks_against_the_reduced_limit():
    layer = margin_layer(0.2, var_cap=150.0)
    assert isinstance(layer, SafetyLayer)
    assert layer.is_action_safe(0.0, {"position": 80.0, "var_per_unit": 1.5})[0]      # 120
    assert not layer.is_action_safe(1.0, {"position": 80.0, "var_per_unit": 1.5})[0]  # 121.5


@pytest.mark.parametrize("call, error, match", [
    (lambda: margin_layer(1.0), InvalidValueError, "margin"),
    (lambda: margin_layer(-0.1), InvalidValueError, "margin"),
    (lambda: margin_layer("wide"), InvalidTypeError, "margin"),
    (lambda: margin_layer(0.1, var_cap=0), InvalidValueError, "var_cap"),
    (lambda: margin_sweep([], SEEDS), InvalidValueError, "margins"),
    (lambda: margin_sweep([0.1], []), InvalidValueError, "seeds"),
    (lambda: realised_breaches(lambda a, s: a, [-1]), InvalidValueError, "seed"),
    (lambda: realised_breaches("layer", SEEDS), InvalidTypeError, "filter_fn"),
    (lambda: realised_breaches(lambda a, s: a, SEEDS, policy=3), InvalidTypeError, "policy"),
    (lambda: signal_trader(0), InvalidValueError, "max_trade"),
])
def test_bad_input_is_refused(call, error, match):
    with pytest.raises(error, match=match):
        call()
