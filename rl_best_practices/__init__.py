"""Reference implementations for the rl-best-practices course.

Importing the package registers the course's market environment with Gymnasium
(``"rl_best_practices/Market-v0"``). Ray is imported only by :mod:`rl_best_practices.rllib`.
"""

from rl_best_practices.envs import ENV_ID, MarketEnv

__all__ = ["ENV_ID", "MarketEnv"]
__version__ = "0.1.0"
