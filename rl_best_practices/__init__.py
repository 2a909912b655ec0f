"""Reference implementations for the rl-best-practices course.

The lesson's public names are importable from here; each lives in the module of its lesson and
is imported on first use, so ``import rl_best_practices`` stays light. Only the integration
subpackage :mod:`rl_best_practices.rllib` imports Ray; every other module is plain numpy, scipy
and Gymnasium. Every exception the package raises derives from
:class:`rl_best_practices.errors.Error`, and arguments are checked by one module,
:mod:`rl_best_practices.validation`. Importing the package registers the course's market
environment with Gymnasium as ``"rl_best_practices/Market-v0"``.

>>> import rl_best_practices
>>> rl_best_practices.ENV_ID
'rl_best_practices/Market-v0'
"""

from importlib import import_module
from typing import Any

from rl_best_practices.envs import ENV_ID, MarketEnv

__version__ = "0.1.0"

# public name -> module of its lesson
_LESSON_NAMES = {
    "RewardShaper": "rewards",  # 01
    "SafetyLayer": "safety",  # 02
    "DistributionShiftDetector": "drift",  # 03
    "ExperimentConfig": "experiment",  # 04
    "HumanFeedbackCollector": "feedback",  # 05
    "ProductionChecklist": "checklist",  # 06
}

__all__ = ["ENV_ID", "MarketEnv", *_LESSON_NAMES]


def __getattr__(name: str) -> Any:
    if name in _LESSON_NAMES:
        return getattr(import_module(f"rl_best_practices.{_LESSON_NAMES[name]}"), name)
    raise AttributeError(f"module 'rl_best_practices' has no attribute {name!r}")
