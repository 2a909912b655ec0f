"""Shadow mode: the candidate sees live observations, is compared and logged, never acts; its
counterfactual returns on production's days are exact on a price-taking market."""

import math

import gymnasium as gym
import numpy as np
import pytest

from rl_best_practices.deployment import ShadowDeployment, counterfactual_returns
from rl_best_practices.envs import MarketEnv, evaluate_policy
from rl_best_practices.errors import Error, InvalidStateError, InvalidTypeError, InvalidValueError


def test_shadow_returns_only_the_primary_action_and_logs_the_candidate():
    env = MarketEnv({"episode_length": 30})
    obs, _ = env.reset(seed=0)
    shadow = ShadowDeployment(lambda o: 1, lambda o: 2 if o[0] > 0 else 0, max_log=10)
    positions = []
    done = False
    while not done:
        obs, _, term, trunc, info = env.step(shadow.act(obs))
        positions.append(info["position"])
        done = term or trunc
    assert set(positions) == {0.0}  # holding only: the candidate never traded
    assert shadow.decisions == 30 and shadow.agreements == 0 and shadow.agreement_rate == 0.0
    assert len(shadow.log) == 10 and all(r["action"] == 1 for r in shadow.log)


def test_shadow_survives_a_crashing_or_mutating_candidate():
    def mutating(obs):
        obs[0] = 99.0
        raise RuntimeError("boom")

    seen = []
    shadow = ShadowDeployment(lambda o: seen.append(o[0]) or 1, mutating)
    obs = np.zeros(3)
    assert shadow.act(obs) == 1 and obs[0] == 0.0
    assert shadow.candidate_errors == 1 and "boom" in shadow.log[0]["error"]
    assert math.isnan(ShadowDeployment(len, len).agreement_rate)


def test_shadow_compares_array_actions():
    shadow = ShadowDeployment(lambda o: np.array([1.0]), lambda o: np.array([1.0]))
    shadow.act(np.zeros(2))
    assert shadow.agreement_rate == 1.0


def test_shadow_uses_a_custom_comparison():
    shadow = ShadowDeployment(lambda o: 1.0, lambda o: 1.04, compare=lambda a, b: abs(a - b) < 0.1)
    shadow.act(None)
    assert shadow.agreement_rate == 1.0


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(candidate=None), InvalidTypeError, "candidate must be callable"),
        (dict(primary=3), InvalidTypeError, "primary must be callable"),
        (dict(compare="equal"), InvalidTypeError, "compare must be callable"),
        (dict(max_log=0), InvalidValueError, "max_log must be an integer >= 1"),
        (dict(max_log=True), InvalidTypeError, "max_log"),
        (dict(max_log=10.0), InvalidTypeError, "max_log"),
    ],
)
def test_shadow_rejects_bad_arguments(kwargs, error, message):
    args = {"primary": len, "candidate": len, **kwargs}
    with pytest.raises(error, match=message) as info:
        ShadowDeployment(args.pop("primary"), args.pop("candidate"), **args)
    assert isinstance(info.value, Error) and isinstance(info.value, ValueError)


# -- counterfactual returns --------------------------------------------------------------------
def _day():
    return MarketEnv({"episode_length": 50})


def test_counterfactual_returns_are_each_policys_own_returns_on_the_same_days():
    def buy(obs):
        return 2

    served, replayed = counterfactual_returns(_day, lambda obs: 1, buy, [3, 4, 5])
    assert served.tolist() == [0.0, 0.0, 0.0]
    assert np.allclose(replayed, evaluate_policy(buy, [3, 4, 5], {"episode_length": 50}))


class PriceMovingEnv(gym.Wrapper):
    """A market where buying pushes the price up: the counterfactual is not exact there."""

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        info = dict(info, price_change=info["price_change"] + 0.01 * (int(action) - 1))
        return obs, reward, terminated, truncated, info


def test_a_market_moved_by_the_policy_is_refused_with_the_day_and_step():
    with pytest.raises(InvalidStateError, match=r"day 7, step 0: price_change .* not price-taking"):
        counterfactual_returns(lambda: PriceMovingEnv(_day()), lambda obs: 1, lambda obs: 2, [7])


@pytest.mark.parametrize(
    "kwargs, error, message",
    [(dict(seeds=[]), InvalidValueError, "at least one day"),
     (dict(seeds=[-1]), InvalidValueError, "seed"),
     (dict(exogenous="weather"), InvalidValueError, "no 'weather' entry"),
     (dict(make_env=None), InvalidTypeError, "make_env")],
)
def test_counterfactual_bad_input_gets_a_specific_error(kwargs, error, message):
    args = {"make_env": _day, "production": lambda o: 1, "candidate": lambda o: 2, "seeds": [1],
            **kwargs}
    with pytest.raises(error, match=message):
        counterfactual_returns(args.pop("make_env"), args.pop("production"),
                               args.pop("candidate"), args.pop("seeds"), **args)
