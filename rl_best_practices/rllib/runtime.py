"""Start Ray quietly on a small machine, or join the cluster named by ``RAY_ADDRESS``.

* :func:`start_ray` starts a private local Ray with a fixed small ``num_cpus``, no dashboard, bound
  to loopback, usage statistics and driver logs off; with ``RAY_ADDRESS`` set it joins that cluster
  instead, so the same notebook runs unchanged on a cluster.
* :func:`stop_ray` shuts it down; :func:`quiet_ray_logging` keeps Ray's and RLlib's log lines and
  warnings out of notebook output (errors still reach stderr).
"""

from __future__ import annotations

import logging
import os
import warnings
from typing import Any

import ray
import torch

from rl_best_practices.validation import check_int

__all__ = ["quiet_ray_logging", "start_ray", "stop_ray"]

DRIVER_TORCH_THREADS = 1

RAY_LOGGERS = ("ray", "ray.rllib", "ray.tune", "ray.train", "ray.data")


def quiet_ray_logging() -> None:
    """Keep Ray's and RLlib's INFO/WARNING lines and Python warnings out of cell output.

    Errors still reach stderr, so a real failure stays visible.
    """
    for name in RAY_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    for category in (DeprecationWarning, FutureWarning, UserWarning, RuntimeWarning):
        warnings.filterwarnings("ignore", category=category, module=r"(ray|gymnasium|torch)(\.|$)")


def start_ray(num_cpus: int = 2) -> dict[str, Any]:
    """Start (or join) Ray quietly and return where it runs.

    With ``RAY_ADDRESS`` set, connects to that cluster and ``num_cpus`` is ignored (the
    cluster has its own); otherwise starts a private local instance bound to loopback.
    Calling it again while Ray runs does nothing. The driver's torch uses one thread
    (``DRIVER_TORCH_THREADS``) unless ``OMP_NUM_THREADS`` says otherwise: the driver samples
    and learns while Tune trials use the other cores, and more threads only compete for them.

    Returns:
        ``{"mode": "local" | "cluster", "num_cpus": <CPUs Ray reports>}``.
    """
    num_cpus = check_int("num_cpus", num_cpus, minimum=1)
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", DRIVER_TORCH_THREADS)))
    quiet_ray_logging()
    address = os.environ.get("RAY_ADDRESS")
    if not ray.is_initialized():
        common = dict(log_to_driver=False, logging_level=logging.ERROR, configure_logging=True)
        if address:
            ray.init(address=address, **common)
        else:
            _start_local(num_cpus, common)
        quiet_ray_logging()  # ray.init re-configures the "ray" logger
    return {
        "mode": "cluster" if address else "local",
        "num_cpus": int(ray.cluster_resources().get("CPU", 0)),
    }


def _start_local(num_cpus: int, common: dict[str, Any], attempts: int = 3) -> None:
    """Start a private local Ray; retry when a busy machine makes start-up time out.

    Ray gives its processes 30 s to register; on a loaded 2-core machine that can pass.
    """
    for attempt in range(1, attempts + 1):
        try:
            ray.init(
                address="local",
                num_cpus=num_cpus,
                include_dashboard=False,
                _node_ip_address="127.0.0.1",
                **common,
            )
            return
        except Exception as exc:  # Ray raises a bare Exception for this time-out
            if "timed out during startup" not in str(exc) or attempt == attempts:
                raise
            ray.shutdown()


def stop_ray() -> None:
    """Shut Ray down if it runs (safe to call twice)."""
    if ray.is_initialized():
        ray.shutdown()
