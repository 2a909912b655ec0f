"""Lesson 01, reward engineering: weighted components, scale normalisation, potential shaping.

* :mod:`~rl_best_practices.rewards.shaper`: :class:`RewardShaper` normalises with statistics of
  the raw shaped reward, then clips, in O(1) memory; every component needs a weight.
* :mod:`~rl_best_practices.rewards.potential`: :func:`potential_shaping` (Ng, Harada and Russell,
  1999) and :func:`optimal_policy`, an exact tabular solver to check what a reward change does.
* :mod:`~rl_best_practices.rewards.wrapper`: :class:`ShapedRewardWrapper` applies a shaper inside
  a Gymnasium env.

>>> from rl_best_practices.rewards import RewardShaper
>>> RewardShaper(default_weight=1.0).compute_shaped_reward(5.0, {"bonus": 1.0}, {},
...                                                        normalize=False)
6.0
"""

from rl_best_practices.errors import MissingWeightError
from rl_best_practices.rewards.potential import optimal_policy, potential_shaping
from rl_best_practices.rewards.shaper import RewardShaper
from rl_best_practices.rewards.wrapper import ShapedRewardWrapper

__all__ = [
    "MissingWeightError",
    "RewardShaper",
    "ShapedRewardWrapper",
    "optimal_policy",
    "potential_shaping",
]
