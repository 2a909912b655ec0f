"""The release gate: :class:`ProductionChecklist` counts an item only with evidence.

An item is complete when its latest automated check passed, or, with no failing run, when
someone marked it by hand. The score is the ML Test Score's: each category scores the points of
its items and the final score is the *minimum* over categories, so one neglected category cannot
hide behind the others. The evidence is saved and loaded as JSON (atomically, through
:mod:`rl_best_practices.storage`) and rendered as text (:meth:`~ProductionChecklist.report`) or
as a Markdown report (:meth:`~ProductionChecklist.to_markdown`), so the gate can be audited.

>>> gate = ProductionChecklist(clock=lambda: 0.0)
>>> gate.register_check("safety", "Rollback exercised", lambda: (False, "drill not run"))
>>> gate.run_checks()["safety"]["Rollback exercised"].note
'drill not run'
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime, timezone
from typing import Any

import numpy as np

from rl_best_practices.checklist.items import CHECKLIST, Evidence
from rl_best_practices.errors import InvalidTypeError, InvalidValueError, UnknownItemError
from rl_best_practices.storage import atomic_write_json, read_json
from rl_best_practices.validation import check_callable, check_number, check_text

__all__ = ["Check", "ProductionChecklist"]

FILE_KIND = "production_checklist"
FILE_VERSION = 1

Check = Callable[[], tuple[bool, str]]
"""An automated check: called with no arguments, it returns ``(passed, detail)``."""


def _run(check: Check) -> tuple[bool, str]:
    """``(passed, detail)`` from running ``check``; a crash or a malformed result is a failure."""
    try:
        outcome = check()
    except Exception as exc:  # a crashing check is a failing check
        return False, f"check raised {type(exc).__name__}: {exc}"
    if isinstance(outcome, tuple) and len(outcome) == 2 and isinstance(outcome[1], str) \
            and isinstance(outcome[0], (bool, np.bool_)):
        return bool(outcome[0]), outcome[1]
    return False, f"check returned {outcome!r}; expected a (bool, str) pair"


class ProductionChecklist:
    """A release gate whose items count only with evidence (see the module docstring).

    Args:
        clock: returns the current time in seconds since the epoch (``time.time`` by default);
            inject a fake one for reproducible records.

    An item is *complete* when its latest automated run passed, or, with no failing run, when
    someone marked it manually. A registered check that has not run yet does not count by itself.

    >>> gate = ProductionChecklist(clock=lambda: 0.0)
    >>> gate.mark_complete("safety", "Human override in place", who="ana")
    >>> gate.score()["categories"]["safety"], gate.score()["final"]
    (0.5, 0.0)
    """

    CHECKLIST: dict[str, tuple[str, ...]] = CHECKLIST

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = check_callable("clock", clock)
        self._manual: dict[tuple[str, str], Evidence] = {}
        self._automated: dict[tuple[str, str], Evidence] = {}
        self._checks: dict[tuple[str, str], tuple[str, Check]] = {}  # key -> (name, check)

    # -- validation ---------------------------------------------------------------------------
    def _validate_category(self, category: Any) -> str:
        if not isinstance(category, str) or category not in self.CHECKLIST:
            raise UnknownItemError(
                f"unknown category {category!r}; valid categories: {list(self.CHECKLIST)}"
            )
        return category

    def _validate(self, category: Any, item: Any) -> tuple[str, str]:
        self._validate_category(category)
        if not isinstance(item, str) or item not in self.CHECKLIST[category]:
            raise UnknownItemError(
                f"unknown item {item!r} in category {category!r}; "
                f"valid items: {list(self.CHECKLIST[category])}"
            )
        return category, item

    def _now(self) -> float:
        return check_number("clock()", self.clock())

    # -- recording evidence -------------------------------------------------------------------
    def mark_complete(
        self, category: str, item: str, *, who: str = "unspecified", note: str = ""
    ) -> None:
        """Record that ``who`` verified ``item`` by hand (worth 0.5 in the score).

        Raises :class:`~rl_best_practices.errors.UnknownItemError` for an unknown category or
        item (listing the valid ones), :class:`~rl_best_practices.errors.InvalidValueError` for
        an empty ``who`` and :class:`~rl_best_practices.errors.InvalidTypeError` for a
        non-string ``who`` or ``note``; the checklist is unchanged in every case.
        """
        key = self._validate(category, item)
        check_text("who", who)
        if not isinstance(note, str):
            raise InvalidTypeError(f"note must be a string, got {type(note).__name__}")
        self._manual[key] = Evidence("manual", True, self._now(), who, note)

    def register_check(
        self, category: str, item: str, check: Check, *, name: str | None = None
    ) -> None:
        """Attach an automated check to ``item``: ``check()`` returns ``(passed, detail)``.

        The check runs only when :meth:`run_checks` is called. Registering again replaces the
        previous check (its recorded results stay until the new one runs). Results are recorded
        as ``check:<name>``; the name defaults to the function's name.
        """
        key = self._validate(category, item)
        check_callable("check", check)
        if name is not None:
            check_text("name", name)
        self._checks[key] = (name or getattr(check, "__name__", type(check).__name__), check)

    @property
    def checks(self) -> list[tuple[str, str]]:
        """The ``(category, item)`` pairs that have an automated check registered."""
        return [key for key in self._keys() if key in self._checks]

    def run_checks(self, category: str | None = None) -> dict[str, dict[str, Evidence]]:
        """Run the registered checks (of one category, or all) and record their results.

        A check that raises, or returns anything but ``(bool, str)``, is recorded as a failure
        whose detail says why: the gate fails closed. Returns ``{category: {item: Evidence}}``.
        """
        if category is not None:
            self._validate_category(category)
        results: dict[str, dict[str, Evidence]] = {}
        for key in self.checks:
            if category is not None and key[0] != category:
                continue
            name, check = self._checks[key]
            passed, detail = _run(check)
            evidence = Evidence("automated", passed, self._now(), f"check:{name}", detail)
            self._automated[key] = evidence
            results.setdefault(key[0], {})[key[1]] = evidence
        return results

    # -- reading the state ---------------------------------------------------------------------
    def _keys(self) -> list[tuple[str, str]]:
        return [(c, i) for c, items in self.CHECKLIST.items() for i in items]

    def evidence(self, category: str, item: str) -> Evidence | None:
        """The evidence that decides ``item``: the latest automated run if any, else the manual
        mark."""
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
            found = [self.evidence(category, item) for item in items]
            per_category[category] = sum((e.points for e in found if e is not None), 0.0)
        return {"categories": per_category, "final": min(per_category.values())}

    def get_status(self) -> dict[str, dict[str, Any]]:
        """Per category: ``completed``, ``total``, ``percentage``, ``missing``, ``failing``
        (items whose latest automated run failed), ``automated``, ``manual`` and ``score``.
        Only real items are counted."""
        scores = self.score()["categories"]
        status = {}
        for category, items in self.CHECKLIST.items():
            done = [i for i in items if self.is_complete(category, i)]
            failing = [i for i in items
                       if (e := self._automated.get((category, i))) and not e.passed]
            status[category] = {
                "completed": len(done),
                "total": len(items),
                "percentage": 100.0 * len(done) / len(items),
                "missing": [i for i in items if i not in done],
                "failing": failing,
                "automated": sum(self.evidence(category, i).kind == "automated" for i in done),
                "manual": sum(self.evidence(category, i).kind == "manual" for i in done),
                "score": scores[category],
            }
        return status

    def is_ready_for_production(self) -> bool:
        """True only when every item of every category is complete."""
        return all(self.is_complete(c, i) for c, i in self._keys())

    # -- reports -------------------------------------------------------------------------------
    def _marker(self, category: str, item: str) -> str:
        found = self.evidence(category, item)
        if found is None:
            return "[ ]"
        if not found.passed:
            return "[!]"
        return "[A]" if found.kind == "automated" else "[M]"

    def report(self) -> str:
        """Every item with its evidence marker, then the verdict beside the score, as text.

        Markers: ``[A]`` passing automated check, ``[M]`` manual mark, ``[!]`` failing check
        (its detail follows), ``[ ]`` no evidence.

        >>> print(ProductionChecklist().report().splitlines()[-2])
        PRODUCTION READY: NO   ML Test Score: 0.0 (minimum over categories)
        """
        status = self.get_status()
        rule = "=" * 64
        lines = [rule, "PRODUCTION READINESS CHECKLIST   [A] automated  [M] manual  [!] failing",
                 rule]
        for category, items in self.CHECKLIST.items():
            s = status[category]
            lines += ["", f"{category.upper()}  ({s['completed']}/{s['total']}, "
                          f"score {s['score']:.1f})"]
            for item in items:
                found = self.evidence(category, item)
                suffix = f"  <- {found.note}" if found is not None and not found.passed else ""
                lines.append(f"  {self._marker(category, item)} {item}{suffix}")
        verdict = "YES" if self.is_ready_for_production() else "NO"
        lines += ["", rule, f"PRODUCTION READY: {verdict}   ML Test Score: "
                            f"{self.score()['final']:.1f} (minimum over categories)", rule]
        return "\n".join(lines)

    def print_checklist(self) -> None:
        """Print :meth:`report` (the lesson's method)."""
        print(self.report())

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
            when = datetime.fromtimestamp(found.when, tz=timezone.utc)
            state = "done" if found.passed else "FAILING"
            note = found.note.replace("|", "\\|").replace("\n", " ")
            lines.append(f"| {category} | {item} | {state} | {found.kind} | {found.who} | "
                         f"{when:%Y-%m-%d %H:%M:%S} | {note} |")
        return "\n".join(lines) + "\n"

    # -- persistence -------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready state: the checklist's items and all recorded evidence (not the
        checks)."""
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
    def load(
        cls, path: str | os.PathLike, clock: Callable[[], float] = time.time
    ) -> ProductionChecklist:
        """Read a checklist saved by :meth:`save`.

        Every record is validated and kept exactly: a file whose items differ from
        :attr:`CHECKLIST`, with an unknown item, a duplicate or a malformed record raises
        :class:`~rl_best_practices.errors.InvalidValueError` rather than dropping or altering
        evidence. Automated checks are code and are not saved: register them again to re-run
        them.
        """
        data = read_json(path, kind=FILE_KIND)
        if data.get("version") != FILE_VERSION:
            raise InvalidValueError(f"{path}: unsupported checklist file version "
                                    f"{data.get('version')!r}, expected {FILE_VERSION}")
        if data.get("checklist") != {c: list(items) for c, items in cls.CHECKLIST.items()}:
            raise InvalidValueError(
                f"{path}: the saved checklist items differ from this version's CHECKLIST; "
                "loading would drop or misattribute evidence"
            )
        extra = sorted(set(data) - {"kind", "version", "checklist", "manual", "automated"})
        if extra:
            raise InvalidValueError(f"{path}: unexpected fields {extra}")
        gate = cls(clock=clock)
        gate._manual = gate._read_records(data.get("manual"), "manual", path)
        gate._automated = gate._read_records(data.get("automated"), "automated", path)
        return gate

    def _read_records(
        self, records: Any, kind: str, path: str | os.PathLike
    ) -> dict[tuple[str, str], Evidence]:
        if not isinstance(records, list):
            raise InvalidValueError(f"{path}: {kind!r} must be a list of evidence records")
        store: dict[tuple[str, str], Evidence] = {}
        for n, record in enumerate(records):
            where = f"{path}: {kind}[{n}]"
            if not isinstance(record, dict):
                raise InvalidValueError(f"{where} must be an object, got {type(record).__name__}")
            record = dict(record)
            try:
                key = self._validate(record.pop("category", None), record.pop("item", None))
            except UnknownItemError as exc:
                raise InvalidValueError(f"{where}: {exc}") from None
            evidence = Evidence.from_dict(record, where)
            if evidence.kind != kind:
                raise InvalidValueError(f"{where}: a {evidence.kind!r} record in the {kind!r} list")
            if key in store:
                raise InvalidValueError(f"{where}: a second {kind} record for {key}")
            store[key] = evidence
        return store
