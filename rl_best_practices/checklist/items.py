"""The checklist's items and the evidence an item carries.

* :data:`CHECKLIST`: the lesson's five categories (training, evaluation, safety, monitoring,
  deployment), five concrete items each; only these count.
* :class:`Evidence`: who or what vouched for an item, when, and for which model version and
  config hash. A manual mark earns :data:`MANUAL_POINTS` (0.5) and a passing automated check
  :data:`AUTOMATED_POINTS` (1), as in Google's ML Test Score (Breck et al., 2017, "The ML Test
  Score: A Rubric for ML Production Readiness and Technical Debt Reduction").
* :data:`SECTIONS`: each item's section of the paper (data, model, infrastructure, monitoring),
  so the score can be read as the paper reads it, and :func:`band`, the paper's interpretation
  of a final score.

>>> len(CHECKLIST), sum(len(items) for items in CHECKLIST.values())
(5, 25)
>>> band(2.5)
'reasonably tested; more of the tests and procedures could be automated'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rl_best_practices.errors import InvalidTypeError, InvalidValueError
from rl_best_practices.validation import check_choice, check_int, check_number, check_text

__all__ = [
    "AUTOMATED_POINTS",
    "BANDS",
    "CHECKLIST",
    "KINDS",
    "MANUAL_POINTS",
    "SECTIONS",
    "Evidence",
    "band",
]

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


_SECTION_ITEMS: dict[str, tuple[str, ...]] = {
    # what the policy reads: its inputs validated, watched and recorded
    "data": (
        "Edge cases and adversarial inputs tested",
        "Drift detection enabled with a known false-alarm rate",
        "Structured logging in place",
    ),
    "model": (
        "Training curve converged",
        "Several seeds trained and compared",
        "Hyperparameters chosen on validation data",
        "Evaluated on held-out episodes",
        "Beats the baseline policies",
        "Performance meets requirements",
        "Safety property holds with zero violations",
    ),
    "infrastructure": (
        "Experiment config saved and versioned",
        "Seeds applied and run reproducible",
        "Action constraints enforced and tested",
        "Fallback policy configured",
        "Human override in place",
        "Rollback exercised",
        "Model versioned in a registry with lineage",
        "Serving path load-tested",
        "Canary plan with guard metrics",
        "Documentation complete",
    ),
    "monitoring": (
        "Latency within budget",
        "Performance dashboards built",
        "Alert thresholds configured",
        "Online comparison (A/B or canary) ready",
        "On-call procedure established",
    ),
}
SECTIONS: dict[str, str] = {item: section for section, items in _SECTION_ITEMS.items()
                            for item in items}
"""Item -> its section of Breck et al. (data, model, infrastructure, monitoring)."""

BANDS: tuple[tuple[float, str], ...] = (
    (0.0, "more a research project than a production system"),
    (1.0, "not untested, but serious holes in reliability are possible"),
    (2.0, "a first pass at production readiness; more investment may be needed"),
    (3.0, "reasonably tested; more of the tests and procedures could be automated"),
    (5.0, "strong automated testing and monitoring, fit for mission-critical use"),
    (float("inf"), "exceptional automated testing and monitoring"),
)
"""The paper's reading of a final score: ``(upper limit, meaning)``, in order (Breck et al.,
2017, Table "Interpreting an ML Test Score")."""


def band(score: float) -> str:
    """What a final ML Test Score means, in the paper's bands (0, up to 1, 2, 3, 5, above 5)."""
    score = check_number("score", score, minimum=0)
    return next(meaning for limit, meaning in BANDS if score <= limit)


@dataclass(frozen=True)
class Evidence:
    """Why an item is (or is not) considered done.

    Attributes:
        kind: ``"manual"`` (a person vouches for it) or ``"automated"`` (a check ran).
        passed: a manual mark always passes; an automated run passes or fails.
        when: seconds since the epoch, from the checklist's clock.
        who: the person, or ``"check:<name>"`` for an automated run.
        note: the person's note, or the check's detail.
        model_version, config_hash: the model the evidence was produced for (``None`` when the
            checklist had no model set); it is stale for any other.

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
    model_version: int | None = None
    config_hash: str | None = None

    @property
    def points(self) -> float:
        """ML Test Score points: 1 for a passing automated check, 0.5 for a manual mark."""
        if not self.passed:
            return 0.0
        return AUTOMATED_POINTS if self.kind == "automated" else MANUAL_POINTS

    @classmethod
    def from_dict(cls, data: Any, where: str) -> Evidence:
        """Rebuild from the saved form, refusing anything altered or incomplete; ``where`` (the
        file and record) starts every error message. Records saved before evidence named its
        model (no ``model_version`` and ``config_hash``) read back with ``None`` for both."""
        expected = {"kind", "passed", "when", "who", "note", "model_version", "config_hash"}
        if isinstance(data, dict) and set(data) == expected - {"model_version", "config_hash"}:
            data = {**data, "model_version": None, "config_hash": None}
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
        version, digest = data["model_version"], data["config_hash"]
        if version is not None:
            check_int(f"{where}: model_version", version, minimum=1)
        if digest is not None:
            check_text(f"{where}: config_hash", digest)
        return cls(kind, passed, when, who, data["note"], version, digest)
