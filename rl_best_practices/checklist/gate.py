"""The release gate: :class:`ProductionChecklist` counts an item only with evidence.

An item is complete when its latest automated check passed, or, with no failing run, when
someone marked it by hand, in both cases *for the model under review*: evidence records the model
version and config hash set by :meth:`~ProductionChecklist.for_model` and goes stale when either
changes. :meth:`~ProductionChecklist.is_ready_for_production` re-runs every registered check
before it decides, and one check function counts for one item only. The score is the ML Test
Score's: each group scores the points of its items and the final score is the *minimum* over
groups, so one neglected group cannot hide behind the others; it is reported by the lesson's
categories and by the paper's four sections with the paper's reading of the result
(:meth:`~ProductionChecklist.ml_test_score`). The evidence is saved and loaded as JSON
(atomically, through :mod:`rl_best_practices.storage`) and rendered as text
(:meth:`~ProductionChecklist.report`) or as a Markdown report
(:meth:`~ProductionChecklist.to_markdown`), so the gate can be audited.

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
from datetime import UTC, datetime
from typing import Any

import numpy as np

from rl_best_practices.checklist.items import CHECKLIST, SECTIONS, Evidence, band
from rl_best_practices.errors import InvalidTypeError, InvalidValueError, UnknownItemError
from rl_best_practices.storage import atomic_write_json, read_json
from rl_best_practices.validation import check_callable, check_int, check_number, check_text

__all__ = ["Check", "ProductionChecklist"]

FILE_KIND = "production_checklist"
FILE_VERSION = 2  # version 1 files (evidence without a model) still load

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

    An item is *complete* when its latest automated run for the current model passed, or, with
    no failing run, when someone marked it manually for that model. A registered check that has
    not run yet does not count by itself.

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
        self._subject: tuple[int | None, str | None] = (None, None)

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

    # -- the model under review ------------------------------------------------------------------
    def for_model(self, version: int, config_hash: str) -> None:
        """Review model ``version`` trained from the config with ``config_hash``: evidence
        recorded from now on names them, and evidence recorded for any other model is stale
        (kept, shown in the report, never counted).

        >>> gate = ProductionChecklist(clock=lambda: 0.0)
        >>> gate.for_model(1, "abc"); gate.mark_complete("safety", "Rollback exercised", who="ana")
        >>> gate.for_model(2, "abc"); gate.is_complete("safety", "Rollback exercised")
        False
        """
        self._subject = (check_int("version", version, minimum=1),
                         check_text("config_hash", config_hash))

    @property
    def subject(self) -> tuple[int | None, str | None]:
        """``(model_version, config_hash)`` under review (``(None, None)`` before
        :meth:`for_model`)."""
        return self._subject

    def _current(self, store: dict[tuple[str, str], Evidence], key: tuple[str, str]
                 ) -> Evidence | None:
        found = store.get(key)
        if found is None or (found.model_version, found.config_hash) != self._subject:
            return None
        return found

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
        self._manual[key] = Evidence("manual", True, self._now(), who, note, *self._subject)

    def register_check(
        self, category: str, item: str, check: Check, *, name: str | None = None
    ) -> None:
        """Attach an automated check to ``item``: ``check()`` returns ``(passed, detail)``.

        The check runs when :meth:`run_checks` or :meth:`is_ready_for_production` is called.
        Registering again replaces the item's previous check (its recorded results stay until the
        new one runs). One check function vouches for one item: registering the same function for
        a second item raises :class:`~rl_best_practices.errors.InvalidValueError`. Results are
        recorded as ``check:<name>``; the name defaults to the function's name.
        """
        key = self._validate(category, item)
        check_callable("check", check)
        for other, (_, registered) in self._checks.items():
            if registered is check and other != key:
                raise InvalidValueError(
                    f"this check already vouches for {other[0]!r} / {other[1]!r}; one check "
                    "counts for one item (write a check that tests this item)"
                )
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
            evidence = Evidence("automated", passed, self._now(), f"check:{name}", detail,
                                *self._subject)
            self._automated[key] = evidence
            results.setdefault(key[0], {})[key[1]] = evidence
        return results

    # -- reading the state ---------------------------------------------------------------------
    def _keys(self) -> list[tuple[str, str]]:
        return [(c, i) for c, items in self.CHECKLIST.items() for i in items]

    def evidence(self, category: str, item: str) -> Evidence | None:
        """The evidence that decides ``item`` for the current model: the latest automated run
        if any, else the manual mark (stale evidence does not decide)."""
        key = self._validate(category, item)
        return self._current(self._automated, key) or self._current(self._manual, key)

    def stale(self) -> list[tuple[str, str]]:
        """Items whose only evidence was recorded for another model or config."""
        return [key for key in self._keys() if self.evidence(*key) is None
                and (key in self._automated or key in self._manual)]

    def is_complete(self, category: str, item: str) -> bool:
        """Whether ``item`` counts as done (see the class docstring)."""
        found = self.evidence(category, item)
        return found is not None and found.passed

    def _points(self, category: str, item: str) -> float:
        found = self.evidence(category, item)
        return found.points if found is not None else 0.0

    def score(self) -> dict[str, Any]:
        """ML Test Score by the lesson's categories: ``{"categories": {category: points},
        "final": min over categories}``."""
        per_category = {c: sum((self._points(c, i) for i in items), 0.0)
                        for c, items in self.CHECKLIST.items()}
        return {"categories": per_category, "final": min(per_category.values())}

    def ml_test_score(self) -> dict[str, Any]:
        """ML Test Score as Breck et al. (2017) report it: ``{"sections": {section: points}`` for
        data, model, infrastructure and monitoring, ``"final"`` (the minimum) and ``"band"``
        (the paper's reading of the final score)``}``.

        >>> ProductionChecklist().ml_test_score()["band"]
        'more a research project than a production system'
        """
        sections = {name: 0.0 for name in ("data", "model", "infrastructure", "monitoring")}
        for category, item in self._keys():
            sections[SECTIONS[item]] += self._points(category, item)
        final = min(sections.values())
        return {"sections": sections, "final": final, "band": band(final)}

    def get_status(self) -> dict[str, dict[str, Any]]:
        """Per category: ``completed``, ``total``, ``percentage``, ``missing``, ``failing``
        (items whose latest automated run failed), ``automated``, ``manual`` and ``score``.
        Only real items are counted."""
        scores = self.score()["categories"]
        status = {}
        for category, items in self.CHECKLIST.items():
            done = [i for i in items if self.is_complete(category, i)]
            failing = [i for i in items
                       if (e := self._current(self._automated, (category, i))) and not e.passed]
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
        """Re-run every registered check, then True only when every item of every category is
        complete for the current model (a result from an earlier run never decides alone)."""
        self.run_checks()
        return self._verdict()

    def _verdict(self) -> bool:
        """Readiness from the recorded evidence, without running checks (for reports)."""
        return all(self.is_complete(c, i) for c, i in self._keys())

    # -- reports -------------------------------------------------------------------------------
    def _marker(self, category: str, item: str) -> str:
        found = self.evidence(category, item)
        if found is None:
            recorded = (category, item) in self._automated or (category, item) in self._manual
            return "[s]" if recorded else "[ ]"  # evidence exists, but for another model
        if not found.passed:
            return "[!]"
        return "[A]" if found.kind == "automated" else "[M]"

    def report(self) -> str:
        """Every item with its evidence marker, then the verdict beside the score, as text.

        Markers: ``[A]`` passing automated check, ``[M]`` manual mark, ``[!]`` failing check
        (its detail follows), ``[s]`` stale (evidence for another model), ``[ ]`` no evidence.
        The verdict reads the recorded evidence; it does not run the checks.

        >>> print(ProductionChecklist().report().splitlines()[-3])
        PRODUCTION READY: NO   ML Test Score: 0.0 (minimum over categories)
        """
        status = self.get_status()
        rule = "=" * 64
        version, digest = self._subject
        model = "no model set" if version is None else f"model {version}, config {digest[:12]}"
        lines = [rule, "PRODUCTION READINESS CHECKLIST   [A] automated  [M] manual  [!] failing",
                 f"for {model}   [s] stale (recorded for another model)", rule]
        for category, items in self.CHECKLIST.items():
            s = status[category]
            lines += ["", f"{category.upper()}  ({s['completed']}/{s['total']}, "
                          f"score {s['score']:.1f})"]
            for item in items:
                found = self.evidence(category, item)
                suffix = f"  <- {found.note}" if found is not None and not found.passed else ""
                lines.append(f"  {self._marker(category, item)} {item}{suffix}")
        verdict = "YES" if self._verdict() else "NO"
        breck = self.ml_test_score()
        sections = ", ".join(f"{k} {v:.1f}" for k, v in breck["sections"].items())
        lines += ["", rule, f"PRODUCTION READY: {verdict}   ML Test Score: "
                            f"{self.score()['final']:.1f} (minimum over categories)",
                  f"By Breck et al.'s sections: {sections}; final {breck['final']:.1f}: "
                  f"{breck['band']}", rule]
        return "\n".join(lines)

    def print_checklist(self) -> None:
        """Print :meth:`report` (the lesson's method)."""
        print(self.report())

    def to_markdown(self) -> str:
        """A Markdown report: verdict, score, and one table row of evidence per item."""
        score = self.score()
        verdict = "ready" if self._verdict() else "NOT ready"
        breck = self.ml_test_score()
        lines = [
            "# Production readiness report",
            "",
            f"**Verdict:** {verdict} for production. **ML Test Score:** {score['final']:.1f} "
            "(minimum over categories; manual item 0.5, automated item 1).",
            "",
            "**By Breck et al.'s sections:** "
            + ", ".join(f"{k} {v:.1f}" for k, v in breck["sections"].items())
            + f"; final {breck['final']:.1f}: {breck['band']}.",
            "",
            "| category | item | status | evidence | who | when (UTC) | note |",
            "|---|---|---|---|---|---|---|",
        ]
        for category, item in self._keys():
            found = self.evidence(category, item)
            if found is None:
                lines.append(f"| {category} | {item} | missing | | | | |")
                continue
            when = datetime.fromtimestamp(found.when, tz=UTC)
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
            "subject": {"model_version": self._subject[0], "config_hash": self._subject[1]},
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
        if data.get("version") not in (1, FILE_VERSION):
            raise InvalidValueError(f"{path}: unsupported checklist file version "
                                    f"{data.get('version')!r}, expected 1 or {FILE_VERSION}")
        if data.get("checklist") != {c: list(items) for c, items in cls.CHECKLIST.items()}:
            raise InvalidValueError(
                f"{path}: the saved checklist items differ from this version's CHECKLIST; "
                "loading would drop or misattribute evidence"
            )
        fields = {"kind", "version", "checklist", "manual", "automated"}
        fields |= {"subject"} if data["version"] == FILE_VERSION else set()
        extra = sorted(set(data) ^ fields)
        if extra:
            raise InvalidValueError(f"{path}: unexpected or missing fields {extra}")
        gate = cls(clock=clock)
        subject = data.get("subject", {"model_version": None, "config_hash": None})
        if subject != {"model_version": None, "config_hash": None}:
            if not isinstance(subject, dict) or set(subject) != {"model_version", "config_hash"}:
                raise InvalidValueError(f"{path}: subject must hold model_version and config_hash")
            gate.for_model(subject["model_version"], subject["config_hash"])
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
