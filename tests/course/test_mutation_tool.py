"""tools/mutation.py scores mutmut's results as the README says: killed over killed plus
survived, listed equivalents and presentation functions left out, stale listings reported.
These tests feed it made-up results; they never run mutmut."""

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

import mutation  # noqa: E402

GATE = "rl_best_practices.checklist.gate"
CANARY = "rl_best_practices.deployment.canary"


def test_mutant_names_give_module_and_function():
    assert mutation.function_of(f"{GATE}.xǁProductionChecklistǁscore__mutmut_5") == (
        GATE, "ProductionChecklist.score")
    assert mutation.function_of(f"{CANARY}.x__check_ramp__mutmut_26") == (CANARY, "_check_ramp")
    with pytest.raises(ValueError, match="unexpected mutant name"):
        mutation.function_of("rl_best_practices.canary.check_ramp")


def test_the_score_leaves_out_equivalents_and_presentation_and_counts_timeouts_as_killed():
    status = {
        f"{CANARY}.xǁCanaryǁrecord__mutmut_1": "killed",
        f"{CANARY}.xǁCanaryǁrecord__mutmut_2": "timeout",
        f"{CANARY}.xǁCanaryǁrecord__mutmut_3": "survived",
        f"{CANARY}.xǁCanaryǁrecord__mutmut_4": "survived",
        f"{CANARY}.xǁCanaryǁsummary__mutmut_1": "survived",  # presentation
    }
    equivalent = {f"{CANARY}.xǁCanaryǁrecord__mutmut_4": "a reason"}
    rows, survivors, stale = mutation.score(status, equivalent)
    (row,) = rows
    assert (row.killed, row.equivalent, row.survived, row.outside) == (2, 1, 1, 1)
    assert row.score == pytest.approx(2 / 3)
    assert survivors == [(f"{CANARY}.xǁCanaryǁrecord__mutmut_3", "survived")]
    assert stale == []
    line = "| `deployment.canary` | 2 | 1 | 1 | 1 | 66.7% | NO |"
    assert line in mutation.table(rows, 3.0, "abc")


def test_a_listed_mutant_that_is_killed_or_gone_is_stale():
    status = {f"{CANARY}.xǁCanaryǁrecord__mutmut_1": "killed"}
    equivalent = {
        f"{CANARY}.xǁCanaryǁrecord__mutmut_1": "said equivalent, but the tests kill it",
        f"{CANARY}.xǁCanaryǁrecord__mutmut_9": "no longer exists",
        f"{GATE}.xǁProductionChecklistǁscore__mutmut_5": "a module this run did not mutate",
    }
    _, _, stale = mutation.score(status, equivalent)
    assert sorted(stale) == [f"{CANARY}.xǁCanaryǁrecord__mutmut_1",
                             f"{CANARY}.xǁCanaryǁrecord__mutmut_9"]


def test_an_unfinished_run_is_refused():
    with pytest.raises(SystemExit, match="was not checked"):
        mutation.score({f"{CANARY}.xǁCanaryǁrecord__mutmut_1": "not checked"}, {})


def test_every_listed_equivalent_names_a_scored_module_and_gives_a_reason():
    listed = mutation.load_equivalent()
    scored_modules = {path.removesuffix(".py").replace("/", ".") for path in
                      mutation.tomllib.loads((ROOT / "pyproject.toml").read_text())
                      ["tool"]["mutmut"]["only_mutate"]}
    assert listed and all(why.strip() for why in listed.values())
    assert {mutation.function_of(key)[0] for key in listed} <= scored_modules
