"""The canary's arguments: the defaults its signature documents, the smallest settings it
accepts, and refusals that say exactly what was wrong."""

import re

import pytest

from rl_best_practices.deployment import Canary, Guard, assign_fraction
from rl_best_practices.errors import InvalidTypeError, InvalidValueError


def steady(**kwargs):
    """A canary whose guard holds from its second record (every value 0, bound 1)."""
    return Canary(len, len, guards=[Guard("m", 1.0, min_samples=2)], **kwargs)


def test_by_default_a_stage_needs_100_canary_records_and_starts_at_5_percent():
    canary = steady()
    assert canary.ramp == (0.05, 0.25, 0.5) and canary.fraction == 0.05
    assert canary.events[0]["reason"] == "fraction 0.05"
    for _ in range(99):
        canary.record("canary", {"m": 0.0})
    assert canary.stage == 0
    canary.record("canary", {"m": 0.0})
    assert canary.stage == 1 and canary.events[-1]["samples"] == 100


def test_by_default_keys_are_assigned_with_the_salt_canary():
    """A canary rebuilt with the defaults (after a restart) keeps every key in its arm."""
    canary = steady(ramp=(0.5,))
    keys = [f"account-{n}" for n in range(300)]
    assert [canary.arm_for(k) for k in keys] == [
        "canary" if assign_fraction(k, "canary") < 0.5 else "control" for k in keys]


def test_by_default_the_event_log_keeps_the_last_100_changes():
    ramp = tuple((n + 1) / 150 for n in range(150))
    canary = steady(ramp=ramp, stage_samples=1)
    canary.record("canary", {"m": 0.0})  # the guard needs 2 records: nothing happens yet
    for _ in range(150):
        canary.record("canary", {"m": 0.0})
    assert canary.state == "promoted"  # 1 start + 149 ramps + 1 promotion = 151 events
    assert len(canary.events) == 100
    assert canary.events[0]["event"] == "ramped" and canary.events[0]["stage"] == 51


def test_the_smallest_settings_are_accepted():
    canary = steady(ramp=(0.5, 1.0), stage_samples=1, max_events=1)
    canary.record("canary", {"m": 0.0})
    canary.record("canary", {"m": 0.0})  # the guard holds and the stage has its record: ramp
    assert canary.stage == 1 and [e["event"] for e in canary.events] == ["ramped"]
    impatient = steady(ramp=(0.5,), stage_samples=1, max_stage_samples=1)
    impatient.record("canary", {"m": 0.0})  # one record, guard still waiting: out of patience
    assert impatient.state == "rolled_back"
    assert impatient.events[-1]["reason"].startswith("inconclusive: m at_most 1 not shown")


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(guards=[]), InvalidValueError,
         "guards must be a non-empty sequence of Guard objects, got none"),
        (dict(guards=[3]), InvalidTypeError,
         "guards must be a non-empty sequence of Guard objects, got 3"),
        (dict(guards=5), InvalidTypeError, "guards must be a sequence, got int"),
        (dict(ramp="ab"), InvalidTypeError, "ramp must be a sequence, got str"),
        (dict(ramp=(0.2, 0.2)), InvalidValueError,
         "ramp must be strictly increasing fractions in (0, 1], got [0.2, 0.2]"),
        (dict(stage_samples=0), InvalidValueError, "stage_samples must be an integer >= 1, got 0"),
        (dict(max_stage_samples=0), InvalidValueError,
         "max_stage_samples must be an integer >= 1, got 0"),
        (dict(max_events=0), InvalidValueError, "max_events must be an integer >= 1, got 0"),
        (dict(salt=3), InvalidTypeError, "salt must be a string, got int"),
    ],
)
def test_refusals_say_exactly_what_was_wrong(kwargs, error, message):
    arguments = {"guards": [Guard("m", 1.0)], **kwargs}
    with pytest.raises(error, match=f"^{re.escape(message)}$"):
        Canary(len, len, **arguments)
