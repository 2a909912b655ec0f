"""An evidence-backed production gate for an RL policy.

:class:`ProductionChecklist` keeps the lesson's five categories (training, evaluation, safety,
monitoring, deployment) and its method names, with the defects fixed:

* only real items count: an unknown category or item raises :class:`UnknownItemError`, which
  lists the valid names, and changes nothing;
* every completed item carries :class:`Evidence`: a manual mark records who, when and a note; an
  automated check is a callable returning ``(passed, detail)`` that is run on demand, and a
  failing run overrides a manual mark;
* a score in the style of Google's ML Test Score (Breck et al., 2017, "The ML Test Score: A
  Rubric for ML Production Readiness and Technical Debt Reduction"): a manually verified item
  earns 0.5, an item verified by a passing automated check earns 1, a category scores the sum of
  its items and the final score is the *minimum* over categories, so one neglected category
  cannot hide behind the others;
* the evidence is saved and loaded as JSON (atomically, through :mod:`rl_best_practices.storage`)
  and rendered as a Markdown report, so the gate can be audited later.

>>> now = [100.0]
>>> gate = ProductionChecklist(clock=lambda: now[0])
>>> gate.mark_complete("training", "Experiment config saved and versioned", who="ana", note="run 7")
>>> gate.register_check("evaluation", "Latency within budget", lambda: (True, "p99 2 ms <= 10 ms"))
>>> gate.run_checks()["evaluation"]["Latency within budget"].passed
True
>>> gate.get_status()["training"]["completed"], gate.is_ready_for_production()
(1, False)
>>> gate.mark_complete("training", "Made-up item")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
rl_best_practices.checklist.UnknownItemError: unknown item 'Made-up item' in category 'training'; valid items: ...
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Any, Callable

from rl_best_practices.storage import atomic_write_json, read_json

__all__ = ["CHECKLIST", "Evidence", "ProductionChecklist", "UnknownItemError"]

FILE_KIND = "production_checklist"
FILE_VERSION = 1
MANUAL_POINTS = 0.5
AUTOMATED_POINTS = 1.0

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


class UnknownItemError(KeyError, ValueError):
    """A category or item that is not on the checklist (a ``KeyError`` and a ``ValueError``)."""

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0]) if self.args else ""


@dataclass(frozen=True)
class Evidence:
    """Why an item is (or is not) considered done.

    Attributes:
        kind: ``"manual"`` (a person vouches for it) or ``"automated"`` (a check ran).
        passed: a manual mark always passes; an automated run passes or fails.
        when: seconds since the epoch, from the checklist's clock.
        who: the person, or ``"check:<name>"`` for an automated run.
        note: the person's note, or the check's detail.
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
    def from_dict(cls, data: Any, where: str) -> "Evidence":
        """Rebuild from the saved form, refusing anything altered or incomplete."""
        expected = {"kind", "passed", "when", "who", "note"}
        if not isinstance(data, dict) or set(data) != expected:
            keys = sorted(data) if isinstance(data, dict) else type(data).__name__
            raise ValueError(f"{where}: evidence must have exactly the fields {sorted(expected)}, got {keys}")
        kind, passed, when = data["kind"], data["passed"], data["when"]
        if kind not in ("manual", "automated"):
            raise ValueError(f"{where}: kind must be 'manual' or 'automated', got {kind!r}")
        if not isinstance(passed, bool) or (kind == "manual" and not passed):
            raise ValueError(f"{where}: passed must be a boolean (true for a manual mark), got {passed!r}")
        if isinstance(when, bool) or not isinstance(when, (int, float)) or not math.isfinite(when):
            raise ValueError(f"{where}: when must be a finite number of seconds, got {when!r}")
        for name in ("who", "note"):
            if not isinstance(data[name], str):
                raise ValueError(f"{where}: {name} must be a string, got {data[name]!r}")
        if not data["who"].strip():
            raise ValueError(f"{where}: who must not be empty")
        return cls(kind, passed, when, data["who"], data["note"])


Check = Callable[[], "tuple[bool, str]"]


class ProductionChecklist:
    """A release gate whose items count only with evidence (see the module docstring).

    Args:
        clock: returns the current time in seconds since the epoch (``time.time`` by default);
            inject a fake one for reproducible records.

    An item is *complete* when its latest automated run passed, or, with no failing run, when
    someone marked it manually. A registered check that has not run yet does not count by itself.
    """

    CHECKLIST: dict[str, tuple[str, ...]] = CHECKLIST

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        if not callable(clock):
            raise TypeError("clock must be a callable returning seconds since the epoch")
        self.clock = clock
        self._manual: dict[tuple[str, str], Evidence] = {}
        self._automated: dict[tuple[str, str], Evidence] = {}
        self._checks: dict[tuple[str, str], Check] = {}

    # -- validation ---------------------------------------------------------------------------
    def _validate(self, category: Any, item: Any) -> tuple[str, str]:
        if not isinstance(category, str) or category not in self.CHECKLIST:
            raise UnknownItemError(
                f"unknown category {category!r}; valid categories: {list(self.CHECKLIST)}"
            )
        if not isinstance(item, str) or item not in self.CHECKLIST[category]:
            raise UnknownItemError(
                f"unknown item {item!r} in category {category!r}; "
                f"valid items: {list(self.CHECKLIST[category])}"
            )
        return category, item

    def _now(self) -> float:
        when = self.clock()
        if isinstance(when, bool) or not isinstance(when, (int, float)) or not math.isfinite(when):
            raise ValueError(f"clock must return a finite number of seconds, got {when!r}")
        return float(when)

    # -- recording evidence -------------------------------------------------------------------
    def mark_complete(self, category: str, item: str, *, who: str = "unspecified", note: str = "") -> None:
        """Record that ``who`` verified ``item`` by hand (worth 0.5 in the score).

        Raises :class:`UnknownItemError` for an unknown category or item (listing the valid
        ones) and ``ValueError``/``TypeError`` for an empty ``who`` or a non-string note; the
        checklist is unchanged in every case.
        """
        key = self._validate(category, item)
        if not isinstance(who, str) or not who.strip():
            raise ValueError(f"who must be a non-empty string naming the person, got {who!r}")
        if not isinstance(note, str):
            raise TypeError(f"note must be a string, got {type(note).__name__}")
        self._manual[key] = Evidence("manual", True, self._now(), who, note)

    def register_check(self, category: str, item: str, check: Check, *, name: str | None = None) -> None:
        """Attach an automated check to ``item``: ``check()`` returns ``(passed, detail)``.

        The check runs only when :meth:`run_checks` is called. Registering again replaces the
        previous check (its recorded results stay until the new one runs).
        """
        key = self._validate(category, item)
        if not callable(check):
            raise TypeError(f"check must be a callable returning (passed, detail), got {check!r}")
        if name is not None and (not isinstance(name, str) or not name.strip()):
            raise ValueError(f"name must be a non-empty string or None, got {name!r}")
        check_name = name or getattr(check, "__name__", type(check).__name__)
        self._checks[key] = _Named(check, check_name)

    @property
    def checks(self) -> list[tuple[str, str]]:
        """The ``(category, item)`` pairs that have an automated check registered."""
        return [key for key in self._keys() if key in self._checks]

    def run_checks(self, category: str | None = None) -> dict[str, dict[str, Evidence]]:
        """Run the registered checks (of one category, or all) and record their results.

        A check that raises, or returns anything but ``(bool, str)``, is recorded as a failure
        whose detail says why: the gate fails closed. Returns ``{category: {item: Evidence}}``.
        """
        if category is not None and category not in self.CHECKLIST:
            raise UnknownItemError(
                f"unknown category {category!r}; valid categories: {list(self.CHECKLIST)}"
            )
        results: dict[str, dict[str, Evidence]] = {}
        for key in self.checks:
            if category is not None and key[0] != category:
                continue
            check = self._checks[key]
            try:
                outcome = check()
            except Exception as exc:  # a crashing check is a failing check
                passed, detail = False, f"check raised {type(exc).__name__}: {exc}"
            else:
                passed, detail = _read_outcome(outcome)
            evidence = Evidence("automated", passed, self._now(), f"check:{check.name}", detail)
            self._automated[key] = evidence
            results.setdefault(key[0], {})[key[1]] = evidence
        return results

    # -- reading the state ---------------------------------------------------------------------
    def _keys(self) -> list[tuple[str, str]]:
        return [(c, i) for c, items in self.CHECKLIST.items() for i in items]

    def evidence(self, category: str, item: str) -> Evidence | None:
        """The evidence that decides ``item``: the latest automated run if any, else the manual mark."""
        key = self._validate(category, item)
        return self._automated.get(key) or self._manual.get(key)

    def is_complete(self, category: str, item: str) -> bool:
        """Whether ``item`` counts as done (see the class docstring)."""
        found = self.evidence(category, item)
        return found is not None and found.passed

    def score(self) -> dict[str, Any]:
        """ML Test Score: ``{"categories": {category: points}, "final": min over categories}``."""
        per_category = {}
        for category, items in self.CHECKLIST.items():
            total = 0.0
            for item in items:
                found = self.evidence(category, item)
                total += found.points if found is not None else 0.0
            per_category[category] = total
        return {"categories": per_category, "final": min(per_category.values())}

    def get_status(self) -> dict[str, dict[str, Any]]:
        """Per category: ``completed``, ``total``, ``percentage``, ``missing``, ``failing``
        (items whose latest automated run failed), ``automated``, ``manual`` and ``score``.
        Only real items are counted."""
        scores = self.score()["categories"]
        status = {}
        for category, items in self.CHECKLIST.items():
            done = [i for i in items if self.is_complete(category, i)]
            status[category] = {
                "completed": len(done),
                "total": len(items),
                "percentage": 100.0 * len(done) / len(items),
                "missing": [i for i in items if i not in done],
                "failing": [i for i in items if (e := self._automated.get((category, i))) and not e.passed],
                "automated": sum(1 for i in done if self.evidence(category, i).kind == "automated"),
                "manual": sum(1 for i in done if self.evidence(category, i).kind == "manual"),
                "score": scores[category],
            }
        return status

    def is_ready_for_production(self) -> bool:
        """True only when every item of every category is complete."""
        return all(self.is_complete(c, i) for c, i in self._keys())

    def _marker(self, category: str, item: str) -> str:
        found = self.evidence(category, item)
        if found is None:
            return "[ ]"
        if not found.passed:
            return "[!]"
        return "[A]" if found.kind == "automated" else "[M]"

    def print_checklist(self) -> None:
        """Print every item with its evidence marker, then the verdict beside the score.

        Markers: ``[A]`` passing automated check, ``[M]`` manual mark, ``[!]`` failing check,
        ``[ ]`` no evidence.
        """
        status = self.get_status()
        print("=" * 64)
        print("PRODUCTION READINESS CHECKLIST   [A] automated  [M] manual  [!] failing")
        print("=" * 64)
        for category, items in self.CHECKLIST.items():
            s = status[category]
            print(f"\n{category.upper()}  ({s['completed']}/{s['total']}, score {s['score']:.1f})")
            for item in items:
                found = self.evidence(category, item)
                suffix = f"  <- {found.note}" if found is not None and not found.passed else ""
                print(f"  {self._marker(category, item)} {item}{suffix}")
        print("\n" + "=" * 64)
        verdict = "YES" if self.is_ready_for_production() else "NO"
        print(f"PRODUCTION READY: {verdict}   ML Test Score: {self.score()['final']:.1f} "
              f"(minimum over categories)")
        print("=" * 64)

    def to_markdown(self) -> str:
        """A Markdown report: verdict, score, and one table row of evidence per item."""
        score = self.score()
        verdict = "ready" if self.is_ready_for_production() else "NOT ready"
        lines = [
            "# Production readiness report",
            "",
            f"**Verdict:** {verdict} for production. **ML Test Score:** {score['final']:.1f} "
            "(minimum over categories; manual item 0.5, automated item 1).",
            "",
            "| category | item | status | evidence | who | when (UTC) | note |",
            "|---|---|---|---|---|---|---|",
        ]
        for category, item in self._keys():
            found = self.evidence(category, item)
            if found is None:
                lines.append(f"| {category} | {item} | missing | | | | |")
                continue
            when = datetime.fromtimestamp(found.when, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
            state = "done" if found.passed else "FAILING"
            note = found.note.replace("|", "\\|").replace("\n", " ")
            lines.append(f"| {category} | {item} | {state} | {found.kind} | {found.who} | {when} | {note} |")
        return "\n".join(lines) + "\n"

    # -- persistence -------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready state: the checklist's items and all recorded evidence (not the checks)."""
        def records(store: dict[tuple[str, str], Evidence]) -> list[dict[str, Any]]:
            return [{"category": c, "item": i, **asdict(store[(c, i)])} for c, i in self._keys()
                    if (c, i) in store]

        return {
            "kind": FILE_KIND,
            "version": FILE_VERSION,
            "checklist": {c: list(items) for c, items in self.CHECKLIST.items()},
            "manual": records(self._manual),
            "automated": records(self._automated),
        }

    def save(self, path: str | os.PathLike) -> None:
        """Write the evidence to ``path`` as JSON, atomically (a crash leaves the old file)."""
        atomic_write_json(path, self.to_dict())

    @classmethod
    def load(cls, path: str | os.PathLike, clock: Callable[[], float] = time.time) -> "ProductionChecklist":
        """Read a checklist saved by :meth:`save`.

        Every record is validated and kept exactly: a file whose items differ from
        :attr:`CHECKLIST`, with an unknown item, a duplicate or a malformed record raises
        ``ValueError`` rather than dropping or altering evidence. Automated checks are code and
        are not saved: register them again to re-run them.
        """
        data = read_json(path, kind=FILE_KIND)
        if data.get("version") != FILE_VERSION:
            raise ValueError(f"{path}: unsupported checklist file version {data.get('version')!r}, expected {FILE_VERSION}")
        expected = {c: list(items) for c, items in cls.CHECKLIST.items()}
        if data.get("checklist") != expected:
            raise ValueError(
                f"{path}: the saved checklist items differ from this version's CHECKLIST; "
                "loading would drop or misattribute evidence"
            )
        extra = sorted(set(data) - {"kind", "version", "checklist", "manual", "automated"})
        if extra:
            raise ValueError(f"{path}: unexpected fields {extra}")
        gate = cls(clock=clock)
        for field, store in (("manual", gate._manual), ("automated", gate._automated)):
            records = data.get(field)
            if not isinstance(records, list):
                raise ValueError(f"{path}: {field!r} must be a list of evidence records")
            for n, record in enumerate(records):
                where = f"{path}: {field}[{n}]"
                if not isinstance(record, dict):
                    raise ValueError(f"{where} must be an object, got {type(record).__name__}")
                record = dict(record)
                try:
                    key = gate._validate(record.pop("category", None), record.pop("item", None))
                except UnknownItemError as exc:
                    raise ValueError(f"{where}: {exc}") from None
                evidence = Evidence.from_dict(record, where)
                if evidence.kind != field:
                    raise ValueError(f"{where}: a {evidence.kind!r} record in the {field!r} list")
                if key in store:
                    raise ValueError(f"{where}: a second {field} record for {key}")
                store[key] = evidence
        return gate


class _Named:
    """A check together with the name its results are recorded under."""

    def __init__(self, check: Check, name: str) -> None:
        self.check, self.name = check, name

    def __call__(self) -> Any:
        return self.check()


def _read_outcome(outcome: Any) -> tuple[bool, str]:
    """``(passed, detail)`` from what a check returned; anything malformed is a failure."""
    if isinstance(outcome, tuple) and len(outcome) == 2 and isinstance(outcome[1], str):
        passed = outcome[0]
        if type(passed).__name__ in ("bool", "bool_"):  # Python or NumPy boolean
            return bool(passed), outcome[1]
    return False, f"check returned {outcome!r}; expected a (bool, str) pair"
