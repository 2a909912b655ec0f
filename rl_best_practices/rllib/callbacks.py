"""RLlib callbacks that log the course's per-episode diagnostics with ``metrics_logger``.

* :class:`RewardComponentsCallback`: per-episode sums of each reward component that
  :class:`~rl_best_practices.rewards.ShapedRewardWrapper` writes into ``info``.
* :class:`DriftMetricsCallback`: each drift check that
  :class:`~rl_best_practices.drift.ShiftMonitor` reports in ``info``.
* :class:`MonitorMetricsCallback`: the action, reward and latency monitors that
  :class:`~rl_best_practices.drift.PolicyMonitor` reports in ``info``.

All appear in a training result under ``result["env_runners"]``.
"""

from __future__ import annotations

from collections.abc import Mapping

from ray.rllib.callbacks.callbacks import RLlibCallback

__all__ = ["DriftMetricsCallback", "MonitorMetricsCallback", "RewardComponentsCallback"]


class RewardComponentsCallback(RLlibCallback):
    """RLlib callback: per-episode sums of each reward component, the raw and the shaped reward.

    Logged with ``metrics_logger`` under ``reward_components/<name>`` (averaged over episodes in
    the iteration's results, in ``result["env_runners"]``). Works with :class:`ShapedRewardWrapper`.
    """

    KEY = "reward_component_sums"

    def on_episode_step(self, *, episode, **kwargs) -> None:
        info = episode.get_infos(-1)
        if not isinstance(info, Mapping) or "reward_components" not in info:
            return
        sums = episode.custom_data.setdefault(self.KEY, {})
        for name, value in info["reward_components"].items():
            sums[name] = sums.get(name, 0.0) + value
        for name in ("raw_reward", "shaped_reward"):
            sums[name] = sums.get(name, 0.0) + info[name]

    def on_episode_end(self, *, episode, metrics_logger=None, **kwargs) -> None:
        if metrics_logger is None:
            return
        for name, total in episode.custom_data.get(self.KEY, {}).items():
            metrics_logger.log_value(f"reward_components/{name}", total, reduce="mean")


class DriftMetricsCallback(RLlibCallback):
    """RLlib callback: log each drift check that a ``ShiftMonitor`` reports in ``info``.

    Per check, with ``metrics_logger`` (reported in ``result["env_runners"]``): ``drift/checks``
    (summed over the iteration), ``drift/alarm_rate`` (the fraction of checks that detected a
    shift), ``drift/min_family_p_value`` and, per feature, ``drift/psi/<name>`` (mean). Use it
    with an env wrapped in :class:`~rl_best_practices.drift.ShiftMonitor`, in training or
    evaluation.
    """

    def on_episode_step(self, *, episode, metrics_logger=None, **kwargs) -> None:
        info = episode.get_infos(-1)
        report = info.get("drift") if isinstance(info, dict) else None
        if metrics_logger is None or not report or report.get("status") != "ok":
            return
        metrics_logger.log_value("drift/checks", 1, reduce="sum")
        metrics_logger.log_value("drift/alarm_rate", float(report["shift_detected"]), reduce="mean")
        metrics_logger.log_value("drift/min_family_p_value", report["family_p_value"], reduce="min")
        for feature in report["features"]:
            metrics_logger.log_value(f"drift/psi/{feature['name']}", feature["psi"], reduce="mean")


class MonitorMetricsCallback(RLlibCallback):
    """RLlib callback: log what a ``PolicyMonitor`` reports in ``info["monitors"]``.

    With ``metrics_logger`` (reported in ``result["env_runners"]``): ``monitors/alarms/<name>``
    (alarms per monitor, summed over the iteration), ``monitors/reward_cusum`` (the largest
    CUSUM statistic seen), ``monitors/action_checks`` (summed), ``monitors/action_p_value``
    (smallest), ``monitors/latency_p50`` and ``monitors/latency_p99`` (largest). Use it with an
    env wrapped in :class:`~rl_best_practices.drift.PolicyMonitor`, in training or evaluation.
    """

    def on_episode_step(self, *, episode, metrics_logger=None, **kwargs) -> None:
        info = episode.get_infos(-1)
        reports = info.get("monitors") if isinstance(info, dict) else None
        if metrics_logger is None or not reports:
            return
        for name in reports.get("alarms", ()):
            metrics_logger.log_value(f"monitors/alarms/{name}", 1, reduce="sum")
        if "reward" in reports:
            metrics_logger.log_value("monitors/reward_cusum", reports["reward"]["statistic"],
                                     reduce="max")
        if "action" in reports:
            metrics_logger.log_value("monitors/action_checks", 1, reduce="sum")
            metrics_logger.log_value("monitors/action_p_value", reports["action"]["p_value"],
                                     reduce="min")
        if "latency" in reports:
            for key in ("p50", "p99"):
                metrics_logger.log_value(f"monitors/latency_{key}", reports["latency"][key],
                                         reduce="max")
