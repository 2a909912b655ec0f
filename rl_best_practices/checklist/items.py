"""The checklist's items and the evidence an item carries.

* :data:`CHECKLIST`: the lesson's five categories (training, evaluation, safety, monitoring,
  deployment), five concrete items each; only these count.
* :class:`Evidence`: who or what vouched for an item and when. A manual mark earns
  :data:`MANUAL_POINTS` (0.5) and a passing automated check :data:`AUTOMATED_POINTS` (1), as in
  Google's ML Test Score (Breck et al., 2017, "The ML Test Score: A Rubric for ML Production
  Readiness and Technical Debt Reduction").

>>> len(CHECKLIST), sum(len(items) for items in CHECKLIST.values())
(5, 25)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rl_best_practices.errors import InvalidTypeError, InvalidValueError
from rl_best_practices.validation import check_choice, check_number, check_text

__all__ = ["AUTOMATED_POINTS", "CHECKLIST", "KINDS", "MANUAL_POINTS", "Evidence"]

MANUAL_POINTS = 0.5
AUTOMATED_POINTS = 1.0
KINDS = ("manual", "automated")

CHECKLIST: dict[str, tuple[str, ...]] = {
    "training": (
        "Experiment config saved and versioned",
        "Seeds applied and run reproducible",
        "Training curve converged",
        "Several seeds trained and compared",
        "Hyperparameters chosen on validation data",
    ),
    "evaluation": (
        "Evaluated on held-out episodes",
        "Beats the baseline policies",
        "Edge cases and adversarial inputs tested",
        "Performance meets requirements",
        "Latency within budget",
    ),
    "safety": (
        "Action constraints enforced and tested",
        "Fallback policy configured",
        "Safety property holds with zero violations",
        "Human override in place",
        "Rollback exercised",
    ),
    "monitoring": (
        "Structured logging in place",
        "Drift detection enabled with a known false-alarm rate",
        "Performance dashboards built",
        "Alert thresholds configured",
        "Online comparison (A/B or canary) ready",
    ),
    "deployment": (
        "Model versioned in a registry with lineage",
        "Serving path load-tested",
        "Canary plan with guard metrics",
        "Documentation complete",
        "On-call procedure established",
    ),
}


@dataclass(frozen=True)
class Evidence:
    """Why an item is (or is not) considered done.

    Attributes:
        kind: ``"manual"`` (a person vouches for it) or ``"automated"`` (a check ran).
        passed: a manual mark always passes; an automated run passes or fails.
        when: seconds since the epoch, from the checklist's clock.
        who: the person, or ``"check:<name>"`` for an automated run.
        note: the person's note, or the check's detail.

    >>> Evidence("manual", True, 0.0, "ana", "kill switch tested").points
    0.5
    >>> Evidence("automated", False, 0.0, "check:latency", "p99 40 ms > 10 ms").points
    0.0
    """

    kind: str
    passed: bool
    when: float
    who: str
    note: str

    @property
    def points(self) -> float:
        """ML Test Score points: 1 for a passing automated check, 0.5 for a manual mark."""
        if not self.passed:
            return 0.0
        return AUTOMATED_POINTS if self.kind == "automated" else MANUAL_POINTS

    @classmethod
    def from_dict(cls, data: Any, where: str) -> Evidence:
        """Rebuild from the saved form, refusing anything altered or incomplete; ``where`` (the
        file and record) starts every error message."""
        expected = {"kind", "passed", "when", "who", "note"}
        if not isinstance(data, dict) or set(data) != expected:
            keys = sorted(data) if isinstance(data, dict) else type(data).__name__
            raise InvalidValueError(
                f"{where}: evidence must have exactly the fields {sorted(expected)}, got {keys}"
            )
        kind = check_choice(f"{where}: kind", data["kind"], KINDS)
        passed = data["passed"]
        if not isinstance(passed, bool):
            raise InvalidTypeError(f"{where}: passed must be a boolean, got {passed!r}")
        if kind == "manual" and not passed:
            raise InvalidValueError(f"{where}: passed must be true for a manual mark, got false")
        when = check_number(f"{where}: when", data["when"])
        who = check_text(f"{where}: who", data["who"])
        if not isinstance(data["note"], str):
            raise InvalidTypeError(f"{where}: note must be a string, got {data['note']!r}")
        return cls(kind, passed, when, who, data["note"])
