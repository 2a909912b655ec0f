"""What the deployment patterns share: the shape of a policy."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["Policy"]

Policy = Callable[[Any], Any]
"""A policy maps one observation to one action, whatever engine produced it."""
