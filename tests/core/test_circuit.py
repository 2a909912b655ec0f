"""The circuit breaker: opens after its threshold of consecutive failures, refuses calls for the
cool-down, admits one trial, and records every transition."""

import pytest

from rl_best_practices.circuit import CircuitBreaker
from rl_best_practices.errors import Error, InvalidTypeError, InvalidValueError


def test_by_default_five_consecutive_failures_open_it_for_thirty_seconds():
    now = [0.0]
    breaker = CircuitBreaker(clock=lambda: now[0])
    for _ in range(4):
        breaker.record_failure()
    assert breaker.state == "closed" and breaker.allow_request()
    breaker.record_failure()
    assert breaker.state == "open" and breaker.times_opened == 1
    now[0] = 29.9
    assert not breaker.allow_request()
    now[0] = 30.0
    assert breaker.allow_request() and breaker.state == "half_open"


def test_a_success_resets_the_count_of_consecutive_failures():
    breaker = CircuitBreaker(failure_threshold=3, clock=lambda: 0.0)
    breaker.record_failure()
    breaker.record_failure()
    breaker.record_success()
    breaker.record_failure()
    breaker.record_failure()
    assert breaker.state == "closed"
    breaker.record_failure()
    assert breaker.state == "open"


def test_the_trial_call_closes_or_reopens_it_and_every_transition_is_recorded():
    now = [0.0]
    breaker = CircuitBreaker(failure_threshold=1, cooldown_s=10.0, clock=lambda: now[0])
    assert breaker.times_opened == 0 and list(breaker.transitions) == []
    breaker.record_failure()
    now[0] = 10.0
    assert breaker.allow_request()
    breaker.record_failure()  # the trial failed: open again, for a new cool-down
    now[0] = 15.0
    assert not breaker.allow_request() and breaker.times_opened == 2
    now[0] = 20.0
    assert breaker.allow_request()
    breaker.record_success()
    assert breaker.state == "closed"
    assert list(breaker.transitions) == [(0.0, "open"), (10.0, "half_open"), (10.0, "open"),
                                         (20.0, "half_open"), (20.0, "closed")]


def test_the_transition_log_keeps_the_latest_thousand():
    now = [0.0]
    breaker = CircuitBreaker(failure_threshold=1, cooldown_s=1.0, clock=lambda: now[0])
    for n in range(501):  # open, half-open: two transitions each
        now[0] = float(n)
        breaker.record_failure()
        now[0] = n + 1.0
        breaker.allow_request()
    assert len(breaker.transitions) == 1000 and breaker.times_opened == 501
    assert breaker.transitions[0] == (1.0, "open")  # the first two dropped


def test_a_threshold_of_one_opens_on_the_first_failure():
    breaker = CircuitBreaker(failure_threshold=1, cooldown_s=0.5, clock=lambda: 0.0)
    breaker.record_failure()
    assert breaker.state == "open"


@pytest.mark.parametrize(
    "kwargs, error, message",
    [({"failure_threshold": 0}, InvalidValueError, r"^failure_threshold must be an integer >= 1"),
     ({"failure_threshold": None}, InvalidTypeError, r"^failure_threshold must be an integer"),
     ({"cooldown_s": 0.0}, InvalidValueError, r"^cooldown_s must be a finite number > 0"),
     ({"cooldown_s": -1.0}, InvalidValueError, r"^cooldown_s must be a finite number > 0"),
     ({"cooldown_s": None}, InvalidTypeError, r"^cooldown_s must be a finite number > 0"),
     ({"clock": 5}, InvalidTypeError, r"^clock must be callable")],
)
def test_bad_settings_are_refused_naming_the_setting(kwargs, error, message):
    with pytest.raises(error, match=message) as info:
        CircuitBreaker(**kwargs)
    assert isinstance(info.value, Error)
