"""The production gate: only real items count, evidence is kept, checks run, the score is the
minimum over categories, and saved evidence reads back exactly."""

import json
import re
from dataclasses import asdict

import numpy as np
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from rl_best_practices import ProductionChecklist, errors
from rl_best_practices.checklist import CHECKLIST, Evidence, UnknownItemError
from rl_best_practices.checklist.items import band
from rl_best_practices.errors import Error, InvalidTypeError, InvalidValueError

CATEGORIES = ("training", "evaluation", "safety", "monitoring", "deployment")
ALL_ITEMS = [(c, i) for c, items in CHECKLIST.items() for i in items]


def fake_clock(start=1_700_000_000.0, step=1.0):
    now = [start - step]

    def clock():
        now[0] += step
        return now[0]

    return clock


def test_keeps_the_lessons_five_categories_and_api():
    assert tuple(ProductionChecklist.CHECKLIST) == CATEGORIES
    assert all(len(items) == 5 for items in CHECKLIST.values())
    gate = ProductionChecklist()
    for name in ("mark_complete", "get_status", "is_ready_for_production", "print_checklist"):
        assert callable(getattr(gate, name))


def test_made_up_items_raise_and_never_count():
    gate = ProductionChecklist()
    for category in CATEGORIES:
        for n in range(10):
            with pytest.raises(UnknownItemError):
                gate.mark_complete(category, f"made-up item {n}")
    status = gate.get_status()
    assert all(s["completed"] == 0 and s["percentage"] == 0.0 for s in status.values())
    assert not gate.is_ready_for_production()
    assert gate.score()["final"] == 0.0


@pytest.mark.parametrize(
    "category, item, listed",
    [("nonsense", "Experiment config saved and versioned", "training"),
     ("training", "nonsense", "Experiment config saved and versioned"),
     (None, "x", "valid categories"),
     ("safety", 3, "valid items")],
)
def test_unknown_names_raise_listing_the_valid_ones(category, item, listed):
    gate = ProductionChecklist()
    with pytest.raises(UnknownItemError, match=listed) as info:
        gate.mark_complete(category, item)
    assert isinstance(info.value, KeyError) and isinstance(info.value, ValueError)
    assert isinstance(info.value, Error)
    assert gate.to_dict()["manual"] == []
    with pytest.raises(UnknownItemError):
        gate.register_check(category, item, lambda: (True, ""))
    assert gate.checks == []


def test_the_lessons_error_name_is_the_package_wide_one():
    assert UnknownItemError is errors.UnknownItemError


@pytest.mark.parametrize(
    "who, note, error, message",
    [("", "", InvalidValueError, "who must be a non-empty string"),
     ("  ", "", InvalidValueError, "who"),
     (None, "", InvalidTypeError, "who"),
     (True, "", InvalidTypeError, "who"),
     ("ana", 5, InvalidTypeError, "note must be a string")],
)
def test_bad_evidence_raises_and_records_nothing(who, note, error, message):
    gate = ProductionChecklist()
    with pytest.raises(error, match=message) as info:
        gate.mark_complete("training", CHECKLIST["training"][0], who=who, note=note)
    assert isinstance(info.value, Error) and isinstance(info.value, ValueError)
    assert gate.evidence("training", CHECKLIST["training"][0]) is None


@pytest.mark.parametrize(
    "check, name, error, message",
    [("not callable", None, InvalidTypeError, "check must be callable"),
     (lambda: (True, ""), "", InvalidValueError, "name must be a non-empty string"),
     (lambda: (True, ""), 3, InvalidTypeError, "name")],
)
def test_bad_checks_are_refused_and_not_registered(check, name, error, message):
    gate = ProductionChecklist()
    with pytest.raises(error, match=message) as info:
        gate.register_check("safety", "Rollback exercised", check, name=name)
    assert isinstance(info.value, Error) and isinstance(info.value, ValueError)
    assert gate.checks == []


def test_manual_mark_records_who_when_and_note():
    gate = ProductionChecklist(clock=lambda: 1234.5)
    gate.mark_complete("safety", "Human override in place", who="ana", note="kill switch tested")
    assert gate.evidence("safety", "Human override in place") == Evidence(
        "manual", True, 1234.5, "ana", "kill switch tested")
    assert gate.get_status()["safety"]["completed"] == 1


def test_readiness_needs_every_item():
    gate = ProductionChecklist()
    for category, item in ALL_ITEMS[:-1]:
        gate.mark_complete(category, item, who="ana")
    assert not gate.is_ready_for_production()
    assert gate.get_status()["deployment"]["missing"] == [ALL_ITEMS[-1][1]]
    gate.mark_complete(*ALL_ITEMS[-1], who="ana")
    assert gate.is_ready_for_production()


def test_automated_checks_run_on_demand_and_fail_closed():
    calls = []

    def passing():
        calls.append(1)
        return True, "ok"

    gate = ProductionChecklist(clock=fake_clock())
    gate.register_check("evaluation", "Latency within budget", passing)
    gate.register_check("evaluation", "Beats the baseline policies", lambda: 1 / 0, name="beats")
    gate.register_check("safety", "Rollback exercised", lambda: "yes")
    gate.register_check("monitoring", "Structured logging in place", lambda: (1, "truthy int"))
    gate.register_check("monitoring", "Alert thresholds configured", lambda: (np.True_, "numpy"))
    assert calls == [] and not gate.is_complete("evaluation", "Latency within budget")
    results = gate.run_checks()
    assert calls == [1]
    assert results["evaluation"]["Latency within budget"].passed
    crashed = results["evaluation"]["Beats the baseline policies"]
    assert not crashed.passed and "ZeroDivisionError" in crashed.note
    assert crashed.who == "check:beats"
    assert not results["safety"]["Rollback exercised"].passed
    assert not results["monitoring"]["Structured logging in place"].passed
    assert results["monitoring"]["Alert thresholds configured"].passed
    assert results["evaluation"]["Latency within budget"].who == "check:passing"
    status = gate.get_status()["evaluation"]
    assert status["completed"] == 1 and status["automated"] == 1
    assert status["failing"] == ["Beats the baseline policies"]
    gate.run_checks("safety")
    assert calls == [1]  # only the safety checks ran
    with pytest.raises(UnknownItemError):
        gate.run_checks("nonsense")


def test_a_failing_check_overrides_a_manual_mark():
    gate = ProductionChecklist()
    item = ("safety", "Safety property holds with zero violations")
    gate.mark_complete(*item, who="ana")
    assert gate.is_complete(*item)
    gate.register_check(*item, lambda: (False, "3 violations"))
    assert gate.is_complete(*item)  # not run yet: the manual mark still stands
    gate.run_checks()
    assert not gate.is_complete(*item)
    assert gate.get_status()["safety"]["failing"] == [item[1]]


def test_score_is_the_minimum_over_categories_with_half_points_for_manual():
    gate = ProductionChecklist()
    for category, items in CHECKLIST.items():
        for item in items:
            if category == "monitoring" and item == items[0]:
                gate.mark_complete(category, item, who="ana")
            else:
                gate.register_check(category, item, lambda: (True, "ok"))
    gate.run_checks()
    score = gate.score()
    assert score["categories"]["monitoring"] == 4.5
    assert score["categories"]["training"] == 5.0
    assert score["final"] == 4.5
    assert gate.is_ready_for_production()


def test_print_checklist_shows_markers_and_score_beside_the_verdict(capsys):
    gate = ProductionChecklist()
    gate.mark_complete("training", CHECKLIST["training"][0], who="ana")
    gate.register_check("training", CHECKLIST["training"][1], lambda: (False, "seed ignored"))
    gate.run_checks()
    gate.print_checklist()
    out = capsys.readouterr().out
    assert out == gate.report() + "\n"  # the lesson's method prints the report, nothing else
    assert f"[M] {CHECKLIST['training'][0]}" in out
    assert f"[!] {CHECKLIST['training'][1]}  <- seed ignored" in out
    assert f"[ ] {CHECKLIST['training'][2]}" in out
    assert "TRAINING  (1/5, score 0.5)" in out
    assert "PRODUCTION READY: NO   ML Test Score: 0.0" in out


def test_report_returns_text_without_printing(capsys):
    gate = ProductionChecklist()
    for category, item in ALL_ITEMS:
        gate.register_check(category, item, lambda: (True, "ok"))
    gate.run_checks()
    text = gate.report()
    assert capsys.readouterr().out == ""
    assert text.count("\n  [A] ") == len(ALL_ITEMS) and "\n  [M] " not in text
    verdict = "PRODUCTION READY: YES   ML Test Score: 5.0 (minimum over categories)"
    assert text.splitlines()[-3] == verdict


def test_markdown_report_lists_every_item_with_its_evidence():
    gate = ProductionChecklist(clock=lambda: 0.0)
    gate.mark_complete("deployment", "Documentation complete", who="ana", note="a|b")
    report = gate.to_markdown()
    assert report.startswith("# Production readiness report")
    assert "**Verdict:** NOT ready" in report
    row = ("| deployment | Documentation complete | done | manual | ana | 1970-01-01 00:00:00 "
           "| a\\|b |")
    assert row in report
    assert report.count("| missing |") == len(ALL_ITEMS) - 1


def test_save_and_load_keep_every_record_exactly(tmp_path):
    gate = ProductionChecklist(clock=fake_clock(step=0.1))
    gate.mark_complete("training", CHECKLIST["training"][0], who="ana", note="config v3")
    gate.mark_complete("safety", CHECKLIST["safety"][1], who="ben")
    gate.register_check("safety", CHECKLIST["safety"][1], lambda: (False, "fallback missing"))
    gate.register_check("evaluation", CHECKLIST["evaluation"][4], lambda: (True, "p99 1.2 ms"))
    gate.run_checks()
    path = tmp_path / "gate.json"
    gate.save(path)
    loaded = ProductionChecklist.load(path)
    assert loaded.to_dict() == gate.to_dict()
    assert loaded.get_status() == gate.get_status() and loaded.score() == gate.score()
    for key in ALL_ITEMS:
        assert loaded.evidence(*key) == gate.evidence(*key)
    assert loaded.checks == []  # code is not saved: checks are registered again


def _saved(tmp_path):
    gate = ProductionChecklist(clock=lambda: 5.0)
    gate.mark_complete("training", CHECKLIST["training"][0], who="ana")
    path = tmp_path / "gate.json"
    gate.save(path)
    return path, json.loads(path.read_text())


@pytest.mark.parametrize(
    "tamper, message",
    [
        (lambda d: d["manual"][0].update(item="made-up"), "unknown item"),
        (lambda d: d["manual"][0].update(category="made-up"), "unknown category"),
        (lambda d: d["manual"].append(dict(d["manual"][0])), "second manual record"),
        (lambda d: d["manual"][0].update(passed=False), "passed must be"),
        (lambda d: d["manual"][0].update(who=""), "who must be a non-empty string"),
        (lambda d: d["manual"][0].update(who=5), "who must be a non-empty string"),
        (lambda d: d["manual"][0].update(note=None), "note must be a string"),
        (lambda d: d["manual"][0].update(kind="robot"), "kind must be one of"),
        (lambda d: d["manual"][0].update(passed="yes"), "passed must be a boolean"),
        (lambda d: d["manual"][0].update(when=True), "when must be"),
        (lambda d: d["manual"].__setitem__(0, "a mark"), "must be an object"),
        (lambda d: d.update(manual={}), "'manual' must be a list"),
        (lambda d: d.update(extra=1), "unexpected or missing fields"),
        (lambda d: d.pop("subject"), "unexpected or missing fields"),
        (lambda d: d.update(subject={"model_version": 0, "config_hash": "x"}), "version"),
        (lambda d: d["manual"][0].update(model_version="1"), "model_version"),
        (lambda d: d["manual"][0].update(config_hash=""), "config_hash"),
        (lambda d: d["manual"][0].update(extra=1), "exactly the fields"),
        (lambda d: d["manual"][0].update(when="yesterday"), "when must be"),
        (lambda d: d["checklist"]["training"].pop(), "differ from this version"),
        (lambda d: d.update(version=99), "unsupported checklist file version"),
        (lambda d: d["automated"].append(dict(d["manual"][0])),
         "'manual' record in the 'automated'"),
        (lambda d: d.update(kind="model_registry"), "expected a 'production_checklist'"),
    ],
)
def test_load_refuses_altered_or_unknown_evidence(tmp_path, tamper, message):
    path, data = _saved(tmp_path)
    tamper(data)
    path.write_text(json.dumps(data))
    with pytest.raises(InvalidValueError, match=message):
        ProductionChecklist.load(path)


def test_a_clock_returning_nan_records_nothing():
    gate = ProductionChecklist(clock=lambda: float("nan"))
    with pytest.raises(InvalidValueError, match="clock"):
        gate.mark_complete("training", CHECKLIST["training"][0], who="ana")
    assert gate.evidence("training", CHECKLIST["training"][0]) is None
    gate.register_check("training", CHECKLIST["training"][1], lambda: (True, "ok"))
    with pytest.raises(InvalidValueError, match="clock"):
        gate.run_checks()
    assert gate.evidence("training", CHECKLIST["training"][1]) is None


def test_bad_clock_is_rejected():
    with pytest.raises(InvalidTypeError, match="clock must be callable"):
        ProductionChecklist(clock=5)


# -- evidence for a model, one check per item, checks re-run, Breck et al.'s sections ----------
def test_evidence_goes_stale_when_the_model_or_its_config_changes():
    gate = ProductionChecklist(clock=fake_clock())
    gate.for_model(3, "a" * 64)
    item = ("safety", "Rollback exercised")
    gate.mark_complete(*item, who="ana")
    gate.register_check("evaluation", "Latency within budget", lambda: (True, "p99 2 ms"))
    gate.run_checks()
    assert gate.is_complete(*item) and gate.evidence(*item).model_version == 3
    for version, digest in ((4, "a" * 64), (3, "b" * 64)):
        gate.for_model(version, digest)
        assert not gate.is_complete(*item) and gate.evidence(*item) is None
        assert set(gate.stale()) == {item, ("evaluation", "Latency within budget")}
        assert "[s] Rollback exercised" in gate.report()
    gate.for_model(3, "a" * 64)  # back to the model it was recorded for: it counts again
    assert gate.is_complete(*item) and gate.stale() == []


def test_stale_evidence_survives_save_and_load(tmp_path):
    gate = ProductionChecklist(clock=fake_clock())
    gate.for_model(1, "c" * 64)
    gate.mark_complete("safety", "Rollback exercised", who="ana")
    gate.for_model(2, "c" * 64)
    gate.save(tmp_path / "gate.json")
    loaded = ProductionChecklist.load(tmp_path / "gate.json")
    assert loaded.subject == (2, "c" * 64) and loaded.stale() == [("safety", "Rollback exercised")]
    assert loaded.to_dict() == gate.to_dict()


def test_a_version_1_file_loads_with_evidence_for_no_model(tmp_path):
    old = {"kind": "production_checklist", "version": 1,
           "checklist": {c: list(items) for c, items in CHECKLIST.items()},
           "manual": [{"category": "safety", "item": "Rollback exercised", "kind": "manual",
                       "passed": True, "when": 5.0, "who": "ana", "note": "drill"}],
           "automated": []}
    (tmp_path / "old.json").write_text(json.dumps(old))
    gate = ProductionChecklist.load(tmp_path / "old.json")
    assert gate.is_complete("safety", "Rollback exercised")
    assert gate.evidence("safety", "Rollback exercised").note == "drill"
    gate.for_model(1, "d" * 64)  # not known to be about this model
    assert gate.stale() == [("safety", "Rollback exercised")]


def test_one_check_function_vouches_for_one_item_only():
    gate = ProductionChecklist()

    def beats_production():
        return True, "shown non-inferior"

    gate.register_check("evaluation", "Beats the baseline policies", beats_production)
    with pytest.raises(InvalidValueError, match="already vouches for 'evaluation'"):
        gate.register_check("evaluation", "Performance meets requirements", beats_production)
    assert gate.checks == [("evaluation", "Beats the baseline policies")]
    gate.register_check("evaluation", "Beats the baseline policies", beats_production)  # again


def test_readiness_reruns_every_check_before_deciding():
    gate = ProductionChecklist(clock=fake_clock())
    healthy = [True]
    checks = {}
    for n, key in enumerate(ALL_ITEMS):
        def check(n=n):
            return (healthy[0] if n == 7 else True), f"check {n}"
        checks[key] = check
        gate.register_check(*key, check, name=f"c{n}")
    assert gate.is_ready_for_production()
    healthy[0] = False  # the world changed after the last run
    assert not gate.is_ready_for_production()
    assert gate.get_status()[ALL_ITEMS[7][0]]["failing"] == [ALL_ITEMS[7][1]]


# Each item's evidence, as drawn by the property tests below, and what it is worth by the rule
# stated independently of the gate's code: an item counts when its check passes when the gate
# re-runs it (whether or not it ran before), or when it has a manual mark for the current model
# and no failing check; a passing check earns 1 point, a manual mark alone 0.5.
GOOD = {"pass": 1.0, "unrun": 1.0, "manual": 0.5, "manual+pass": 1.0}
BAD = ("fail", "crash", "malformed", "manual+fail", "stale manual", "broke since", "none")


@st.composite
def gate_evidence(draw):
    """Evidence for all 25 items: a few categories (none in about a third of the draws) hold one
    or two bad items, every other item is good, so a draw is ready, or misses readiness by as
    little as one item of one category, often with a high score."""
    broken = draw(st.sets(st.sampled_from(CATEGORIES), max_size=2))
    outcomes = []
    for category in CATEGORIES:
        bad = draw(st.sets(st.integers(0, 4), min_size=1, max_size=2)) if category in broken \
            else set()
        outcomes += [draw(st.sampled_from(BAD if n in bad else tuple(GOOD))) for n in range(5)]
    return outcomes


def _gate_with(outcomes):
    """A gate holding ``outcomes`` (one per item) for model 2, its checks last run before the
    world changed: 'broke since' passed then, fails now; 'unrun' checks have never run."""
    gate = ProductionChecklist(clock=fake_clock())
    gate.for_model(1, "a" * 64)
    for key, outcome in zip(ALL_ITEMS, outcomes, strict=True):
        if outcome == "stale manual":
            gate.mark_complete(*key, who="ana")  # for model 1: does not count for model 2
    gate.for_model(2, "b" * 64)
    healthy = [True]
    results = {"pass": (True, "ok"), "manual+pass": (True, "ok"), "fail": (False, "broken"),
               "manual+fail": (False, "broken"), "malformed": (1, "truthy, not a bool")}

    def check_for(outcome):  # a new function per item: one check vouches for one item
        if outcome == "crash":
            return lambda: 1 / 0
        if outcome == "broke since":
            return lambda: (healthy[0], "ok until it broke")
        return lambda: results[outcome]

    for n, (key, outcome) in enumerate(zip(ALL_ITEMS, outcomes, strict=True)):
        if outcome.startswith("manual"):
            gate.mark_complete(*key, who="ana")
        if outcome in (*results, "crash", "broke since"):
            gate.register_check(*key, check_for(outcome), name=f"c{n}")
    gate.run_checks()
    for n, (key, outcome) in enumerate(zip(ALL_ITEMS, outcomes, strict=True)):
        if outcome == "unrun":
            gate.register_check(*key, (lambda: (True, "ok")), name=f"c{n}")
    healthy[0] = False
    return gate


@settings(max_examples=100, deadline=None)
@given(gate_evidence())
def test_readiness_score_and_status_follow_the_stated_rule_for_any_evidence(outcomes):
    gate = _gate_with(outcomes)
    # before the re-run, the recorded evidence decides: an unrun check is not done yet, and a
    # check that broke since its last run still shows that run's pass
    recorded = [gate.is_complete(*key) for key in ALL_ITEMS]
    assert recorded == [o in ("pass", "manual", "manual+pass", "broke since") for o in outcomes]
    ready = all(o in GOOD for o in outcomes)
    event(f"ready: {ready}")
    assert gate.is_ready_for_production() == ready
    for category in CATEGORIES:
        drawn = [o for (c, _), o in zip(ALL_ITEMS, outcomes, strict=True) if c == category]
        status = gate.get_status()[category]
        assert status["completed"] == sum(o in GOOD for o in drawn)
        assert status["manual"] == drawn.count("manual")
        assert status["failing"] == [i for i, o in zip(CHECKLIST[category], drawn, strict=True)
                                     if o in ("fail", "crash", "malformed", "manual+fail",
                                              "broke since")]
        assert gate.score()["categories"][category] == sum(GOOD.get(o, 0.0) for o in drawn)
    assert gate.score()["final"] == min(gate.score()["categories"].values())


@pytest.mark.parametrize("category", CATEGORIES)
@pytest.mark.parametrize("defect", ["fail", "crash", "manual+fail", "stale manual", "none"])
def test_one_bad_item_in_any_category_blocks_readiness_at_a_high_score(category, defect):
    """Everything else passes: the score is 4.0 and 24 of 25 items are done, yet not ready."""
    outcomes = ["pass"] * len(ALL_ITEMS)
    outcomes[ALL_ITEMS.index((category, CHECKLIST[category][2]))] = defect
    gate = _gate_with(outcomes)
    assert not gate.is_ready_for_production()
    assert gate.score()["final"] == 4.0
    assert gate.get_status()[category]["missing"] == [CHECKLIST[category][2]]
    gate.register_check(category, CHECKLIST[category][2], lambda: (True, "fixed"))
    assert gate.is_ready_for_production()  # the one item was all that was missing


def test_a_registered_check_counts_only_once_it_has_run_and_passed():
    gate = ProductionChecklist(clock=fake_clock())
    for n, key in enumerate(ALL_ITEMS):
        gate.register_check(*key, (lambda: (True, "ok")), name=f"c{n}")
    assert not any(gate.is_complete(*key) for key in ALL_ITEMS)
    assert gate.score()["final"] == 0.0 and "PRODUCTION READY: NO" in gate.report()
    assert gate.is_ready_for_production()  # it runs them
    assert "PRODUCTION READY: YES" in gate.report()


def test_a_failing_check_outweighs_a_manual_mark_for_readiness():
    gate = ProductionChecklist(clock=fake_clock())
    for key in ALL_ITEMS:
        gate.mark_complete(*key, who="ana")
    assert gate.is_ready_for_production()
    gate.register_check(*ALL_ITEMS[12], lambda: (False, "3 violations"))
    assert not gate.is_ready_for_production()
    assert gate.evidence(*ALL_ITEMS[12]).kind == "automated"


def test_ml_test_score_by_the_papers_sections_and_bands():
    gate = ProductionChecklist(clock=fake_clock())
    for n, key in enumerate(ALL_ITEMS):
        gate.register_check(*key, (lambda: (True, "ok")), name=f"c{n}")
    gate.run_checks()
    result = gate.ml_test_score()
    assert result["sections"] == {"data": 3.0, "model": 7.0, "infrastructure": 10.0,
                                  "monitoring": 5.0}
    assert result["final"] == 3.0 and result["band"].startswith("reasonably tested")
    gate.mark_complete("evaluation", "Edge cases and adversarial inputs tested", who="ana")
    gate.register_check("evaluation", "Edge cases and adversarial inputs tested",
                        lambda: (False, "fuzzing found a crash"))
    gate.run_checks()
    assert gate.ml_test_score()["sections"]["data"] == 2.0  # failing check overrides the mark
    assert gate.ml_test_score()["band"].startswith("a first pass")


@pytest.mark.parametrize("score, start", [(0.0, "more a research"), (0.5, "not untested"),
                                          (1.0, "not untested"), (1.5, "a first pass"),
                                          (3.0, "reasonably"), (4.0, "strong"),
                                          (7.0, "exceptional")])
def test_bands_follow_the_paper(score, start):
    assert band(score).startswith(start)


# -- what users read: defaults, percentages, one category's checks, and each error's message ---
def test_a_mark_without_who_or_note_records_unspecified_and_an_empty_note():
    gate = ProductionChecklist(clock=lambda: 7.0)
    gate.mark_complete("safety", "Rollback exercised")
    assert gate.evidence("safety", "Rollback exercised") == Evidence(
        "manual", True, 7.0, "unspecified", "")


def test_status_percentage_is_the_share_of_items_done():
    gate = ProductionChecklist()
    for item in CHECKLIST["training"][:2]:
        gate.mark_complete("training", item, who="ana")
    status = gate.get_status()
    assert status["training"]["percentage"] == 40.0 and status["safety"]["percentage"] == 0.0


def test_running_one_category_runs_all_of_its_checks_and_no_other():
    gate = ProductionChecklist(clock=fake_clock())
    ran = []
    for n, key in enumerate(ALL_ITEMS):
        gate.register_check(*key, (lambda n=n: ran.append(n) or (True, "ok")), name=f"c{n}")
    results = gate.run_checks("monitoring")
    assert sorted(ran) == list(range(15, 20))
    assert list(results) == ["monitoring"] and list(results["monitoring"]) == list(
        CHECKLIST["monitoring"])


def test_a_check_without_a_name_is_recorded_under_its_type():
    class RollbackDrill:
        def __call__(self):
            return True, "drill passed"

    gate = ProductionChecklist(clock=lambda: 0.0)
    gate.register_check("safety", "Rollback exercised", RollbackDrill())
    gate.run_checks()
    assert gate.evidence("safety", "Rollback exercised").who == "check:RollbackDrill"


@pytest.mark.parametrize(
    "call, error, message",
    [(lambda g: g.for_model(0, "x"), InvalidValueError, r"^version must be an integer >= 1"),
     (lambda g: g.for_model(1, ""), InvalidValueError, r"^config_hash must be a non-empty string"),
     (lambda g: g.mark_complete("safety", "Rollback exercised", note=5), InvalidTypeError,
      r"^note must be a string, got int$"),
     (lambda g: g.register_check("safety", "Rollback exercised", g.clock), InvalidValueError,
      r"'training' / 'Experiment config saved and versioned'; one check counts for one item "
      r"\(write a check that tests this item\)$")],
)
def test_refusals_name_the_argument_at_fault(call, error, message):
    gate = ProductionChecklist(clock=lambda: 0.0)
    gate.register_check("training", "Experiment config saved and versioned", gate.clock)
    with pytest.raises(error, match=message):
        call(gate)


def test_a_clock_returning_nan_is_named_in_the_error():
    gate = ProductionChecklist(clock=lambda: float("nan"))
    with pytest.raises(InvalidValueError, match=r"^clock\(\) must be a finite number, got nan"):
        gate.mark_complete("safety", "Rollback exercised")


@pytest.mark.parametrize(
    "tamper, message",
    [(lambda d: d.update(version=99), r"^{path}: unsupported checklist file version 99, "
                                      r"expected 1 or 2$"),
     (lambda d: d["checklist"]["training"].pop(), r"^{path}: the saved checklist items differ "
                                                  r"from this version's CHECKLIST; loading would "
                                                  r"drop or misattribute evidence$"),
     (lambda d: d.update(subject={"model_version": 1, "config_hash": "x", "extra": 1}),
      r"^{path}: subject must hold model_version and config_hash$"),
     (lambda d: d.update(subject={"model_version": 1}),
      r"^{path}: subject must hold model_version and config_hash$"),
     (lambda d: d["manual"][0].pop("category"), r"^{path}: manual\[0\]: unknown category None"),
     (lambda d: d["manual"][0].pop("item"), r"^{path}: manual\[0\]: unknown item None"),
     (lambda d: d["manual"].__setitem__(0, "a mark"), r"^{path}: manual\[0\] must be an "
                                                      r"object, got str$"),
     (lambda d: d["manual"][0].update(kind="robot"), r"^{path}: manual\[0\]: kind must be"),
     (lambda d: d["automated"].append({**d["manual"][0], "kind": "automated", "passed": 1}),
      r"^{path}: automated\[0\]: passed must be a boolean")],
)
def test_load_errors_say_which_file_and_record(tmp_path, tamper, message):
    path, data = _saved(tmp_path)
    tamper(data)
    path.write_text(json.dumps(data))
    with pytest.raises(InvalidValueError, match=message.replace("{path}", re.escape(str(path)))):
        ProductionChecklist.load(path)


def test_evidence_from_a_record_with_missing_fields_or_of_another_type_is_refused():
    fields = "['config_hash', 'kind', 'model_version', 'note', 'passed', 'when', 'who']"
    record = asdict(Evidence("manual", True, 5.0, "ana", ""))
    del record["who"]
    with pytest.raises(InvalidValueError, match=re.escape(
            f"w: evidence must have exactly the fields {fields}, got ['config_hash', 'kind', "
            "'model_version', 'note', 'passed', 'when']")):
        Evidence.from_dict(record, "w")
    with pytest.raises(InvalidValueError, match=re.escape(f"{fields}, got list")):
        Evidence.from_dict([], "w")
    with pytest.raises(InvalidValueError, match=r"^w: model_version must be an integer >= 1"):
        Evidence.from_dict({**record, "who": "ana", "model_version": 0}, "w")


def test_a_negative_score_has_no_band():
    with pytest.raises(InvalidValueError, match=r"^score must be a finite number >= 0"):
        band(-0.5)
