"""Where a run comes from, and making it repeat: lineage records and seeding.

* :func:`lineage` records the code version (git commit and whether the tree was dirty), the
  versions of the packages a result depends on, the platform and the creation time.
* :func:`seed_everything` seeds Python, NumPy and torch; RLlib itself is seeded through its
  config (see :meth:`~rl_best_practices.experiment.ExperimentConfig.to_rllib`).

>>> seed_everything(1); first = random.random()
>>> seed_everything(1); first == random.random()
True
"""

from __future__ import annotations

import os
import platform
import random
import subprocess
import time
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from rl_best_practices.validation import check_callable, check_int

__all__ = ["lineage", "seed_everything"]

MAX_SEED = 2**31 - 1  # fits every library's seed type, a signed 32-bit integer included
# The distributions whose versions a result depends on (read from metadata: nothing is imported).
PACKAGES = ("gymnasium", "numpy", "ray", "rl-best-practices", "torch")


def seed_everything(seed: int) -> None:
    """Seed Python's ``random``, NumPy's global RNG and torch (CPU) with ``seed``.

    Libraries that draw from the global RNGs (weight initialisation, shuffling) then repeat.
    New code should still take an explicit ``numpy.random.Generator``. ``seed`` is an integer
    in ``[0, 2**31 - 1]``.

    >>> seed_everything(5); a = np.random.rand()
    >>> seed_everything(5); a == np.random.rand()
    True
    """
    seed = check_int("seed", seed, minimum=0, maximum=MAX_SEED)
    import torch  # heavy: imported when a run is seeded, not when lineage is read

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _git(repo: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(repo), *args], capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def _versions() -> dict[str, str | None]:
    versions = {}
    for package in PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return versions


def lineage(
    repo: str | os.PathLike | None = None, clock: Callable[[], float] = time.time
) -> dict[str, Any]:
    """Where a run comes from: code version, package versions, platform and creation time.

    ``git`` is ``{"commit": ..., "dirty": ...}`` when ``repo`` (default: the working
    directory) lies inside a git repository, else ``None``; ``dirty`` is true when tracked or
    untracked files differ from the commit, so the commit alone does not describe the code.
    ``clock`` returns seconds since the epoch (inject one for reproducible records).

    >>> info = lineage(clock=lambda: 0.0)
    >>> info["created_at"], sorted(info["versions"])[:3]
    ('1970-01-01T00:00:00+00:00', ['gymnasium', 'numpy', 'ray'])
    """
    clock = check_callable("clock", clock)
    repo = Path(repo if repo is not None else os.getcwd())
    commit = _git(repo, "rev-parse", "HEAD")
    status = _git(repo, "status", "--porcelain") if commit else None
    git = None if commit is None else {
        "commit": commit.strip(), "dirty": bool(status and status.strip())
    }
    created_at = datetime.fromtimestamp(clock(), tz=UTC)
    return {
        "git": git,
        "python": platform.python_version(),
        "versions": _versions(),
        "platform": platform.platform(),
        "created_at": created_at.isoformat(timespec="seconds"),
    }
