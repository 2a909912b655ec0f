"""The safety layer's record of what it did: every outcome counted once, every reason given in
full, the log's entries, and the executed action in the proposal's form."""

import numpy as np
import pytest

from rl_best_practices.circuit import CircuitBreaker
from rl_best_practices.errors import InvalidTypeError, InvalidValueError, NoSafeActionError
from rl_best_practices.safety import SafetyLayer, nearest_safe_point, position_limit

LIMIT_105 = "position_limit: position 105.0 would exceed the limit 100.0"


def ticking_clock():
    now = [0.0]

    def clock():
        now[0] += 1.0
        return now[0]

    return clock


def fallback_from_state(state):
    return state.get("fallback", 0.0)


def test_every_outcome_is_counted_once_and_every_violation_logged():
    layer = SafetyLayer((-10, 10), [position_limit(100)], fallback_from_state,
                        default_action=0.0, safe_action=0.0, clock=ticking_clock())
    assert layer.get_safety_stats()["intervention_rate"] == 0.0  # no call yet
    calls = [(1.0, {"position": 0}), (2.0, {"position": 0}),            # passed
             (50.0, {"position": 0}), (-50.0, {"position": 0}),         # clipped
             (10.0, {"position": 95}),                                  # projected
             (float("nan"), {"position": 0}),                           # fallback
             (float("inf"), {"position": 0, "fallback": 50.0}),         # default
             (10.0, {"position": 150})]                                 # no safe action
    outcomes = [layer.decide(a, s).outcome for a, s in calls]
    assert outcomes == ["passed", "passed", "clipped", "clipped", "projected", "fallback",
                        "default", "no_safe_action"]
    stats = layer.get_safety_stats()
    assert stats["outcomes"] == {"passed": 2, "clipped": 2, "projected": 1, "fallback": 1,
                                 "default": 1, "no_safe_action": 1}
    assert stats["fallback_count"] == stats["fallback_uses"] == 3
    assert stats["interventions"] == 6 and stats["intervention_rate"] == 0.75
    assert stats["total_violations"] == 4
    assert stats["violations_by_constraint"] == {"position_limit": 2}
    assert stats["recent_violations"] == [
        {"time": 1.0, "event": "violation", "proposed": "10", "reasons": [LIMIT_105]},
        {"time": 2.0, "event": "violation", "proposed": "nan",
         "reasons": ["action nan is not finite"]},
        {"time": 3.0, "event": "violation", "proposed": "inf",
         "reasons": ["action inf is not finite"]},
        {"time": 4.0, "event": "violation", "proposed": "10",
         "reasons": ["position_limit: position 160.0 would exceed the limit 100.0"]},
        {"time": 5.0, "event": "no_safe_action", "degraded": True, "reasons": [
            "position_limit: position 160.0 would exceed the limit 100.0",
            "fallback unsafe: position_limit: position 150.0 would exceed the limit 100.0",
            "default unsafe: position_limit: position 150.0 would exceed the limit 100.0"]},
    ]


def over_five(action, state):
    if action > 5:
        raise KeyError("risk model")
    return True, None


def test_every_failed_check_is_reported_and_counted():
    layer = SafetyLayer((-10, 10), {"limit": position_limit(100), "risk": over_five},
                        lambda s: 0.0, default_action=0.0)
    assert layer.is_action_safe(10.0, {"position": 95}) == (
        False, "limit: position 105.0 would exceed the limit 100.0; "
               "risk raised KeyError: 'risk model'")
    decision = layer.decide(10.0, {"position": 95})
    assert decision.action == 5.0 and decision.reason == (
        "limit: position 105.0 would exceed the limit 100.0; risk raised KeyError: 'risk model'")
    stats = layer.get_safety_stats()
    assert stats["violations_by_constraint"] == {"limit": 1, "risk": 1}
    # the search stops at a point's first failed check: only the proposal's own check raised
    assert stats["constraint_errors"] == 1


def test_the_reasons_name_each_candidate_that_failed():
    layer = SafetyLayer((-10, 10), {"limit": position_limit(100), "risk": over_five},
                        lambda s: 8.0, default_action=7.0, safe_action=0.0)
    decision = layer.decide(9.0, {"position": 95})
    both = ("limit: position {} would exceed the limit 100.0; risk raised KeyError: "
            "'risk model'")
    assert decision.reason == (
        f"no safe action: {both.format('104.0')}; fallback unsafe: {both.format('103.0')}; "
        f"default unsafe: {both.format('102.0')}; executed the stated safe_action")
    broken = SafetyLayer((-10, 10), [position_limit(100)], lambda s: 1 / 0, default_action=0.0)
    assert broken.decide(10.0, {"position": 95}).reason == (
        f"{LIMIT_105}; fallback failed: ZeroDivisionError: division by zero")
    with pytest.raises(NoSafeActionError, match=r"^no safe action: "):
        SafetyLayer((-10, 10), [position_limit(100)]).decide(10.0, {"position": 95})


@pytest.mark.parametrize(
    "fallback, reason",
    [(lambda s: [0.0, 0.0], "fallback failed: InvalidValueError: action [0.0, 0.0] does not "
                            "match the proposal's size 1"),
     (lambda s: "hold", "fallback failed: InvalidTypeError: fallback action must be numeric")],
)
def test_a_fallback_action_of_the_wrong_form_is_reported(fallback, reason):
    layer = SafetyLayer((-10, 10), [position_limit(100)], fallback, default_action=0.0)
    assert layer.decide(10.0, {"position": 95}).reason.startswith(f"{LIMIT_105}; {reason}")


def test_a_vector_fallback_of_the_wrong_shape_is_named_as_the_fallbacks():
    bounds = (np.full(2, -5.0), np.full(2, 5.0))
    layer = SafetyLayer(bounds, [lambda a, s: (bool(np.sum(a) <= 4), "sum over 4")],
                        lambda s: np.zeros(3), safe_action=np.zeros(2))
    decision = layer.decide(np.array([4.0, 4.0]), {})
    assert "fallback failed: InvalidValueError: fallback action has shape (3,)" in decision.reason
    assert decision.outcome == "no_safe_action"
    np.testing.assert_array_equal(decision.action, [0.0, 0.0])


def test_a_scalar_fallback_answers_a_vector_proposal_only_when_sizes_match():
    layer = SafetyLayer(None, [lambda a, s: (bool(np.sum(a) <= 4), "sum over 4")],
                        default_action=0.0)
    decision = layer.decide(np.array([1.0]), {})
    assert decision.outcome == "passed" and decision.action.shape == (1,)
    with pytest.raises(NoSafeActionError, match="default unusable: action 0 does not match the "
                                                "proposal's size 2"):
        layer.decide(np.array([4.0, 4.0]), {})


def test_the_executed_action_keeps_the_proposals_form():
    def total(action, state):
        return bool(np.sum(action) <= 4.0), "sum over 4"

    layer = SafetyLayer(None, [total], lambda s: [0.0, 0.0], tolerance=1e-9)
    out = layer.filter_action(np.array([[4.0], [4.0]]), {})
    assert out.shape == (2, 1) and out.dtype == np.float64
    np.testing.assert_allclose(out, [[2.0], [2.0]], atol=1e-6)
    scalar = SafetyLayer((-10, 10), [position_limit(100)], lambda s: [0.0])
    decision = scalar.decide(float("nan"), {"position": 0})
    assert type(decision.action) is float and decision.action == 0.0  # a float for a float


def test_vector_proposals_are_clipped_on_both_sides_and_pass_when_inside():
    bounds = (np.full(2, -5.0), np.full(2, 5.0))
    layer = SafetyLayer(bounds, [lambda a, s: (True, None)])
    np.testing.assert_array_equal(layer.filter_action(np.array([-50.0, 50.0]), {}), [-5, 5])
    assert layer.decide(np.array([1.0, 2.0]), {}).outcome == "passed"
    scalar = layer.decide(12.0, {})  # a number against vector bounds: clipped element-wise
    np.testing.assert_array_equal(scalar.action, [5.0, 5.0])
    assert scalar.outcome == "clipped"


def test_the_tolerance_sets_how_close_the_search_gets():
    coarse = SafetyLayer((-10, 10), [position_limit(100)], lambda s: 0.0, tolerance=1.0)
    assert coarse.filter_action(10.0, {"position": 96}) == 3.75  # 4.0 is the exact answer
    fine = SafetyLayer((-10, 10), [position_limit(100)], lambda s: 0.0)
    assert abs(fine.filter_action(10.0, {"position": 96}) - 4.0) <= 1e-6


def test_nearest_safe_point_stops_at_the_tolerance_in_action_units():
    calls = []
    point, moved = nearest_safe_point(0.0, 8.0, lambda x: calls.append(x) or x <= 2.5,
                                      tolerance=1 / 128)
    assert len(calls) == 10 and moved and 2.5 - 1 / 128 <= point <= 2.5  # log2(8 * 128) checks
    point, _ = nearest_safe_point(0.0, 10.0, lambda x: x <= 2.6)  # default tolerance 1e-6
    assert 2.6 - 1e-6 <= point <= 2.6
    assert nearest_safe_point(0.0, float("inf"), lambda x: True) == (0.0, False)


def test_overrides_and_breaker_routing_are_counted_and_logged():
    breaker = CircuitBreaker(failure_threshold=1, cooldown_s=60.0, clock=lambda: 0.0)
    layer = SafetyLayer((-10, 10), [position_limit(100)], lambda s: 0.0,
                        circuit_breaker=breaker, clock=ticking_clock(),
                        human_override=lambda action, state: -action if state["flip"] else None)
    assert layer.decide(3.0, {"position": 0, "flip": True}).action == -3.0
    assert layer.decide(4.0, {"position": 0, "flip": True}).action == -4.0
    breaker.record_failure()
    decisions = [layer.decide(2.0, {"position": 0, "flip": False}) for _ in range(2)]
    assert [(d.action, d.proposed, d.outcome) for d in decisions] == [(0.0, 2.0, "fallback")] * 2
    assert decisions[0].reason == "circuit breaker open: proposal not used"
    stats = layer.get_safety_stats()
    assert stats["overrides"] == 2 and stats["breaker_routed"] == 2
    assert stats["recent_violations"][:2] == [
        {"time": 1.0, "event": "override", "proposed": "3", "override": "-3"},
        {"time": 2.0, "event": "override", "proposed": "4", "override": "-4"}]


def test_an_override_of_the_wrong_shape_is_refused_by_name():
    bounds = (np.full(2, -5.0), np.full(2, 5.0))
    layer = SafetyLayer(bounds, [lambda a, s: (True, None)],
                        human_override=lambda action, state: np.zeros(3))
    with pytest.raises(InvalidValueError, match=r"^human override has shape \(3,\)"):
        layer.decide(np.zeros(2), {})


def test_a_clipped_decision_keeps_the_proposal():
    layer = SafetyLayer((-10, 10), [position_limit(100)])
    decision = layer.decide(50.0, {"position": 0})
    assert (decision.action, decision.proposed, decision.reason) == (
        10.0, 50.0, "clipped to [-10.0, 10.0]")


def test_discrete_choices_are_counted_and_logged_by_index():
    layer = SafetyLayer(constraint_functions={"limit": position_limit(100), "risk": over_five},
                        clock=ticking_clock())
    candidates = [-10.0, 0.0, 10.0]
    assert [layer.filter_discrete(i, {"position": 95}, candidates) for i in (1, 0, 2, 2)] == [
        1, 0, 1, 1]
    stats = layer.get_safety_stats()
    assert stats["outcomes"]["passed"] == 2 and stats["outcomes"]["projected"] == 2
    assert stats["recent_violations"][-1] == {
        "time": 2.0, "event": "violation", "proposed": 2,
        "reasons": ["limit: position 105.0 would exceed the limit 100.0",
                    "risk raised KeyError: 'risk model'"]}


def test_masks_of_vector_candidates_and_a_non_numeric_candidate():
    bounds = (np.full(2, -5.0), np.full(2, 5.0))
    layer = SafetyLayer(bounds, [lambda a, s: (bool(np.sum(a) <= 4), "sum over 4")])
    np.testing.assert_array_equal(layer.action_mask({}, [np.zeros(2), np.full(2, 3.0)]),
                                  [True, False])
    with pytest.raises(InvalidTypeError, match=r"^candidates\[1\] must be numeric"):
        layer.action_mask({}, [np.zeros(2), "sell"])
    with pytest.raises(InvalidValueError, match=r"^candidates must hold at least one action$"):
        layer.action_mask({}, [])


@pytest.mark.parametrize("proposal, outcome", [([3.0], "passed"), ([10.0], "projected"),
                                               ([float("nan")], "fallback")])
def test_a_list_proposal_always_gets_an_array_back(proposal, outcome):
    layer = SafetyLayer((-10, 10), [position_limit(100)], lambda s: 0.0)
    decision = layer.decide(proposal, {"position": 95})
    assert decision.outcome == outcome
    assert isinstance(decision.action, np.ndarray) and decision.action.shape == (1,)


def test_degenerate_bounds_fix_the_action():
    layer = SafetyLayer((0.0, 0.0), [position_limit(100)])
    assert layer.filter_action(7.0, {"position": 0}) == 0.0


def test_vector_proposals_against_scalar_bounds_are_clipped_element_wise():
    layer = SafetyLayer((-10, 10), [lambda a, s: (True, None)])
    np.testing.assert_array_equal(layer.filter_action(np.array([20.0, 3.0]), {}), [10.0, 3.0])
    assert layer.decide(np.array([2.0, 3.0]), {}).outcome == "passed"


def test_a_vector_fallback_outside_the_bounds_in_one_element_is_refused():
    bounds = (np.full(2, -5.0), np.full(2, 5.0))
    layer = SafetyLayer(bounds, [lambda a, s: (bool(np.sum(a) <= 4), "sum over 4")],
                        lambda s: np.array([-20.0, 0.0]), safe_action=np.zeros(2))
    decision = layer.decide(np.array([4.0, 4.0]), {})
    assert decision.outcome == "no_safe_action" and decision.proposed is not None
    assert "fallback unsafe: action [-20.0, 0.0] is outside [[-5.0, -5.0], [5.0, 5.0]]" in \
        decision.reason


@pytest.mark.parametrize(
    "call, message",
    [(lambda layer: layer.is_action_safe(np.zeros(3), {}), r"^action has shape \(3,\)"),
     (lambda layer: layer.action_mask({}, [np.zeros(3)]), r"^candidates\[0\] has shape \(3,\)"),
     (lambda layer: layer.filter_action("buy", {}), r"^action must be numeric"),
     (lambda layer: SafetyLayer(layer.action_bounds, default_action=np.zeros(3)),
      r"^default_action has shape \(3,\)"),
     (lambda layer: SafetyLayer((-1, 1), safe_action=2.0),
      r"^safe_action must be finite and inside action_bounds \[-1.0, 1.0\], got 2.0$"),
     (lambda layer: SafetyLayer(circuit_breaker=object()),
      r"^circuit_breaker must be a CircuitBreaker or None, got object$")],
)
def test_actions_of_the_wrong_shape_or_kind_are_refused_by_name(call, message):
    layer = SafetyLayer((np.full(2, -5.0), np.full(2, 5.0)), [lambda a, s: (True, None)])
    with pytest.raises((InvalidValueError, InvalidTypeError), match=message):
        call(layer)


def test_the_log_keeps_the_latest_hundred_violations_by_default():
    layer = SafetyLayer((-10, 10), [position_limit(100)], lambda s: 0.0)
    for _ in range(101):
        layer.decide(10.0, {"position": 95})
    stats = layer.get_safety_stats()
    assert stats["total_violations"] == 101 and len(stats["recent_violations"]) == 100
