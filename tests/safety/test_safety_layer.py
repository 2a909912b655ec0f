"""The safety layer: never an unchecked action, fail closed, exact counters, masks (lesson 02)."""

import numpy as np
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from rl_best_practices import SafetyLayer as ExportedLayer
from rl_best_practices import errors
from rl_best_practices.circuit import CircuitBreaker
from rl_best_practices.errors import InvalidTypeError, InvalidValueError
from rl_best_practices.safety import (
    NoSafeActionError,
    SafetyDecision,
    SafetyLayer,
    evaluate_constraint,
    nearest_safe_point,
    position_limit,
    reduce_position,
    var_limit,
)

LESSON_STATE = {"position": 95, "var": 5000}


def lesson_position(action, state):
    """The lesson's position constraint, written the way the lesson writes it."""
    new = state.get("position", 0) + action
    if np.any(np.abs(new) > 100):
        return False, f"Position {new} exceeds max 100"
    return True, None


def lesson_risk(action, state):
    if state.get("var", 0) > 10000:
        return False, "risk over limit"
    return True, None


def raises_key_error(action, state):
    return state["missing"], None


def fixed_clock():
    return 42.0


def lesson_layer(**kwargs):
    kwargs.setdefault("fallback_policy", lambda state: np.array([0]))
    return SafetyLayer((-10, 10), [lesson_position, lesson_risk], clock=fixed_clock, **kwargs)


def test_the_lesson_name_is_exported():
    assert ExportedLayer is SafetyLayer


def test_lesson_example_yields_the_nearest_safe_action():
    layer = lesson_layer()
    safe = layer.filter_action(np.array([10]), LESSON_STATE)
    assert isinstance(safe, np.ndarray) and safe.shape == (1,)
    assert safe[0] == 5.0
    stats = layer.get_safety_stats()
    assert stats["total_violations"] == 1 and stats["fallback_count"] == 1
    assert stats["outcomes"]["projected"] == 1
    assert stats["violations_by_constraint"] == {"lesson_position": 1, "lesson_risk": 0}


@pytest.mark.parametrize("action, expected", [(10.0, 5.0), (3.0, 3.0), (-25.0, -10.0)])
def test_scalar_actions_return_floats(action, expected):
    layer = SafetyLayer((-10, 10), [position_limit(100)], lambda s: 0.0)
    out = layer.filter_action(action, LESSON_STATE)
    assert type(out) is float and out == expected


def test_unsafe_fallback_is_never_returned():
    # risk over its limit: every action fails, including the fallback's "do nothing"
    layer = lesson_layer()
    with pytest.raises(NoSafeActionError, match="fallback unsafe"):
        layer.filter_action(np.array([1]), {"position": 0, "var": 20000})
    assert layer.get_safety_stats()["outcomes"]["no_safe_action"] == 1


def test_without_fallback_an_unsafe_action_raises_instead_of_passing():
    layer = SafetyLayer((-10, 10), [lesson_position])
    with pytest.raises(NoSafeActionError, match="Position"):
        layer.filter_action(np.array([10]), LESSON_STATE)


def test_a_checked_default_action_is_used_when_the_fallback_fails():
    layer = SafetyLayer((-10, 10), [position_limit(100)], fallback_policy=lambda s: 10.0,
                        default_action=0.0, minimal_intervention=False)
    assert layer.filter_action(10.0, LESSON_STATE) == 0.0
    assert layer.get_safety_stats()["outcomes"]["default"] == 1


def test_an_unsafe_default_action_is_not_returned():
    layer = SafetyLayer((-10, 10), [position_limit(100)], default_action=10.0)
    with pytest.raises(NoSafeActionError, match="default unsafe"):
        layer.filter_action(10.0, LESSON_STATE)


def test_a_raising_constraint_fails_closed_with_its_reason():
    layer = SafetyLayer((-10, 10), [raises_key_error], default_action=0.0)
    ok, reason = layer.is_action_safe(1.0, {})
    assert not ok and "raises_key_error raised KeyError" in reason
    with pytest.raises(NoSafeActionError, match="KeyError"):
        layer.filter_action(1.0, {})
    stats = layer.get_safety_stats()
    assert stats["constraint_errors"] == 2
    assert stats["violations_by_constraint"] == {"raises_key_error": 1}


@pytest.mark.parametrize("result", [None, True, (1, None), ("yes", None), (True,)])
def test_a_malformed_constraint_result_fails_closed(result):
    layer = SafetyLayer(constraint_functions=[lambda a, s: result])
    ok, reason = layer.is_action_safe(0.0, {})
    assert not ok and "constraint returned" in reason


def test_a_raising_or_broken_fallback_fails_closed():
    def broken(state):
        raise RuntimeError("model not loaded")

    layer = SafetyLayer((-10, 10), [position_limit(100)], broken, default_action=0.0)
    assert layer.filter_action(10.0, LESSON_STATE) == 5.0  # bisection from the default instead
    layer = SafetyLayer((-10, 10), [position_limit(100)], lambda s: [0.0, 0.0])
    with pytest.raises(NoSafeActionError, match="size"):
        layer.filter_action(10.0, LESSON_STATE)


def test_non_finite_proposals_are_violations_routed_to_the_fallback():
    layer = SafetyLayer((-10, 10), [position_limit(100)], lambda s: 0.0)
    assert layer.filter_action(float("nan"), LESSON_STATE) == 0.0
    assert layer.is_action_safe(np.inf, LESSON_STATE) == (False, "action inf is not finite")
    assert layer.get_safety_stats()["outcomes"]["fallback"] == 1


def test_clipping_alone_is_an_intervention_but_not_a_violation():
    layer = SafetyLayer((-10, 10), [position_limit(100)])
    assert layer.filter_action(50.0, {"position": 0}) == 10.0
    stats = layer.get_safety_stats()
    assert stats["total_violations"] == 0 and stats["interventions"] == 1
    assert stats["intervention_rate"] == 1.0


def test_counters_are_exact_while_the_log_is_bounded():
    layer = SafetyLayer((-10, 10), [position_limit(100)], lambda s: 0.0, max_log=5,
                        clock=fixed_clock)
    for i in range(40):
        layer.filter_action(10.0 if i % 2 else 1.0, LESSON_STATE)
    stats = layer.get_safety_stats()
    assert stats["total_calls"] == 40 and stats["total_violations"] == 20
    assert stats["interventions"] == 20 and stats["intervention_rate"] == 0.5
    assert len(stats["recent_violations"]) == 5
    assert {entry["time"] for entry in stats["recent_violations"]} == {42.0}


def test_circuit_breaker_routes_to_the_fallback_then_retries_after_the_cooldown():
    now = [0.0]
    breaker = CircuitBreaker(failure_threshold=2, cooldown_s=10.0, clock=lambda: now[0])
    layer = SafetyLayer((-10, 10), [position_limit(100)], lambda s: 0.0, circuit_breaker=breaker)
    layer.filter_action(10.0, LESSON_STATE)
    layer.filter_action(10.0, LESSON_STATE)
    assert breaker.state == "open"
    # open: even a safe proposal is not used
    assert layer.filter_action(2.0, LESSON_STATE) == 0.0
    assert layer.get_safety_stats()["breaker_routed"] == 1
    now[0] = 10.0  # cool-down over: one trial proposal, it passes, the circuit closes
    assert layer.filter_action(2.0, LESSON_STATE) == 2.0
    assert layer.get_safety_stats()["breaker_state"] == "closed"


def test_human_override_replaces_the_proposal_is_checked_and_recorded():
    layer = SafetyLayer((-10, 10), [position_limit(100)], lambda s: 0.0,
                        human_override=lambda a, state: -10.0 if state["position"] > 90 else None)
    decision = layer.decide(3.0, LESSON_STATE)
    assert decision.action == -10.0 and decision.proposed == 3.0
    assert layer.decide(3.0, {"position": 0}).action == 3.0
    stats = layer.get_safety_stats()
    assert stats["overrides"] == 1
    assert stats["recent_violations"][0]["event"] == "override"
    unsafe = SafetyLayer((-10, 10), [position_limit(100)], lambda s: 0.0,
                         human_override=lambda action, state: 10.0)
    # an override is filtered like any proposal
    assert unsafe.filter_action(0.0, LESSON_STATE) == 5.0


def test_vector_actions_are_filtered_along_the_segment():
    def total_limit(action, state):
        return bool(np.sum(action) <= 4.0), "sum over 4"

    layer = SafetyLayer((np.array([-5.0, -5.0]), np.array([5.0, 5.0])), [total_limit],
                        lambda s: np.zeros(2))
    out = layer.filter_action(np.array([4.0, 4.0]), {})
    assert out.shape == (2,) and np.sum(out) <= 4.0
    np.testing.assert_allclose(out, [2.0, 2.0], atol=1e-6)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"action_bounds": (10, -10)}, InvalidValueError, "low <= high"),
        ({"action_bounds": (0,)}, InvalidValueError, "pair"),
        ({"action_bounds": ("a", 1)}, InvalidTypeError, "pair"),
        ({"action_bounds": 10}, InvalidTypeError, "pair"),
        ({"action_bounds": (np.nan, 1)}, InvalidValueError, "pair"),
        ({"constraint_functions": lesson_position}, InvalidTypeError, "list of callables"),
        ({"constraint_functions": [lesson_position, 3]}, InvalidTypeError, "callable"),
        ({"constraint_functions": {1: lesson_position}}, InvalidTypeError, "str name"),
        ({"fallback_policy": 0}, InvalidTypeError, "fallback_policy must be callable"),
        ({"human_override": "x"}, InvalidTypeError, "human_override must be callable"),
        ({"circuit_breaker": object()}, InvalidTypeError, "CircuitBreaker"),
        ({"tolerance": 0}, InvalidValueError, "tolerance must be a finite number > 0"),
        ({"tolerance": float("inf")}, InvalidValueError, "tolerance must be a finite number > 0"),
        ({"max_log": 0}, InvalidValueError, "max_log must be an integer >= 1"),
        ({"clock": 1.0}, InvalidTypeError, "clock must be callable"),
        ({"action_bounds": (-1, 1), "default_action": 5.0}, InvalidValueError, "default_action"),
        ({"default_action": "hold"}, InvalidTypeError, "default_action must be numeric"),
    ],
)
def test_bad_constructor_arguments_raise(kwargs, error, message):
    with pytest.raises(error, match=message) as info:
        SafetyLayer(**kwargs)
    assert isinstance(info.value, errors.Error)
    assert isinstance(info.value, TypeError) == issubclass(error, InvalidTypeError)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"max_log": True}, "max_log must be an integer >= 1, got True"),
        ({"max_log": 10.0}, "max_log must be an integer >= 1, got 10.0"),
        ({"tolerance": True}, "tolerance must be a finite number > 0, got True"),
        ({"tolerance": "1e-6"}, "tolerance must be a finite number > 0"),
    ],
)
def test_wrong_types_are_refused_with_invalid_type_error(kwargs, message):
    with pytest.raises(InvalidTypeError, match=message) as info:
        SafetyLayer(**kwargs)
    assert isinstance(info.value, TypeError) and isinstance(info.value, ValueError)


def test_numpy_numbers_are_accepted_as_settings():
    layer = SafetyLayer(tolerance=np.float32(1e-3), max_log=np.int64(3))
    assert layer.tolerance == pytest.approx(1e-3) and type(layer.tolerance) is float


@pytest.mark.parametrize(
    "action, error",
    [
        ("buy", InvalidTypeError),
        (None, InvalidTypeError),
        (True, InvalidTypeError),
        ([1.0, "x"], InvalidTypeError),
        (np.zeros(3), InvalidValueError),
    ],
)
def test_bad_actions_raise_and_leave_the_counters_alone(action, error):
    bounds = (np.array([-1.0, -1.0]), np.array([1.0, 1.0]))
    layer = SafetyLayer(bounds, [lambda a, s: (True, None)])
    with pytest.raises(error, match="action") as info:
        layer.filter_action(action, {})
    assert isinstance(info.value, TypeError) == (error is InvalidTypeError)
    assert layer.get_safety_stats()["total_calls"] == 0


def test_duplicate_constraint_names_are_made_unique():
    layer = SafetyLayer(constraint_functions=[position_limit(100), position_limit(50)])
    assert list(layer.get_safety_stats()["violations_by_constraint"]) == [
        "position_limit", "position_limit_2"]


@pytest.mark.parametrize("reserved", ["finite", "bounds"])
def test_a_constraint_may_not_take_the_name_of_the_layers_own_checks(reserved):
    def bounds(action, state):  # a function of that name, passed in a list
        return True, None

    bounds.__name__ = reserved
    for functions in ({reserved: position_limit(100)}, [bounds]):
        with pytest.raises(InvalidValueError, match=f"{reserved!r} is reserved"):
            SafetyLayer((-10, 10), functions)
    layer = SafetyLayer((-10, 10), {f"{reserved}_limit": position_limit(100)})
    layer.filter_action(50.0, {"position": 0})  # out of bounds: not the constraint's violation
    assert layer.get_safety_stats()["violations_by_constraint"] == {f"{reserved}_limit": 0}


def test_action_mask_and_an_all_false_mask():
    layer = SafetyLayer(constraint_functions=[position_limit(100)])
    np.testing.assert_array_equal(layer.action_mask({"position": -95}, [-10, 0, 10]),
                                  [False, True, True])
    with pytest.raises(NoSafeActionError, match="every one"):
        layer.action_mask({"position": 150}, [0.0, 10.0])
    with pytest.raises(InvalidValueError, match="at least one"):
        layer.action_mask({"position": 0}, [])


def test_filter_discrete_picks_the_nearest_safe_action_and_counts_it():
    layer = SafetyLayer(constraint_functions=[position_limit(100)])
    assert layer.filter_discrete(2, {"position": 95}, [-10, 0, 10]) == 1
    assert layer.filter_discrete(0, {"position": 95}, [-10, 0, 10]) == 0
    stats = layer.get_safety_stats()
    assert stats["total_calls"] == 2 and stats["total_violations"] == 1
    with pytest.raises(InvalidValueError, match=r"index must be an integer in \[0, 2\], got 3"):
        layer.filter_discrete(3, {"position": 0}, [-10, 0, 10])
    for index in (True, 1.0, "1"):
        with pytest.raises(InvalidTypeError, match="index must be an integer"):
            layer.filter_discrete(index, {"position": 0}, [-10, 0, 10])
    assert layer.filter_discrete(np.int64(0), {"position": 0}, [-10, 0, 10]) == 0
    with pytest.raises(NoSafeActionError):
        layer.filter_discrete(0, {"position": 150}, [10.0])


def executable(action, state, constraints):
    """The rule stated apart from the layer: finite, inside the bounds (-10, 10) and passing
    every constraint."""
    return bool(np.isfinite(action)) and -10 <= action <= 10 and all(
        constraint(action, state)[0] for constraint in constraints)


fallbacks = st.one_of(  # reduce_position(k > 10) and constants beyond 10 leave the bounds
    st.floats(1, 20).map(reduce_position),
    st.floats(-20, 20).map(lambda a: (lambda state: a)),
)


def test_a_fallback_action_outside_the_bounds_is_not_executed():
    """Selling 15 breaks no constraint at position 50, but the bounds allow 10 at most."""
    layer = SafetyLayer((-10, 10), [position_limit(100)], lambda s: -15.0, default_action=0.0,
                        minimal_intervention=False)
    decision = layer.decide(float("nan"), {"position": 50})
    assert (decision.action, decision.outcome) == (0.0, "default")
    assert "fallback unsafe: action -15 is outside [-10.0, 10.0]" in decision.reason


def test_an_open_breaker_still_checks_the_fallbacks_action():
    breaker = CircuitBreaker(failure_threshold=1, cooldown_s=60.0, clock=lambda: 0.0)
    breaker.record_failure()
    layer = SafetyLayer((-10, 10), [position_limit(100)], reduce_position(10),
                        circuit_breaker=breaker)
    with pytest.raises(NoSafeActionError, match="circuit breaker open.*fallback unsafe"):
        layer.decide(0.0, {"position": 150})  # cutting 10 leaves 140: still over the limit
    assert layer.decide(0.0, {"position": 105}).action == -10.0  # a safe fallback is used


@settings(max_examples=300, deadline=None)
@given(action=st.one_of(st.floats(-1e3, 1e3), st.floats(allow_nan=True, allow_infinity=True)),
       state=st.fixed_dictionaries({"position": st.floats(-200, 200),
                                    "var_per_unit": st.floats(0.5, 3.0)}),
       fallback=fallbacks, default=st.one_of(st.none(), st.floats(-10, 10)),
       breaker_open=st.booleans())
def test_property_the_layer_never_executes_an_unsafe_action(action, state, fallback, default,
                                                             breaker_open):
    """Unsafe and out-of-bounds fallbacks, with the breaker open or closed: what the layer
    returns is executable, the fallback's action is re-checked, and it raises only when no
    candidate it may use is executable."""
    constraints = [position_limit(100), var_limit(150)]
    breaker = CircuitBreaker(failure_threshold=1, cooldown_s=60.0, clock=lambda: 0.0)
    if breaker_open:
        breaker.record_failure()
    layer = SafetyLayer((-10, 10), constraints, fallback, default_action=default,
                        circuit_breaker=breaker)
    fallback_ok = executable(fallback(state), state, constraints)
    default_ok = default is not None and executable(default, state, constraints)
    clipped = float(np.clip(action, -10, 10))
    proposal_ok = not breaker_open and np.isfinite(action) and executable(clipped, state,
                                                                         constraints)
    event(f"breaker open: {breaker_open}; fallback executable: {fallback_ok}")
    try:
        decision = layer.decide(action, state)
    except NoSafeActionError:
        event("no safe action")
        assert not (proposal_ok or fallback_ok or default_ok)
        return
    assert executable(decision.action, state, constraints)
    if proposal_ok:
        assert (decision.action, decision.outcome) in ((clipped, "passed"), (clipped, "clipped"))
    elif breaker_open:  # the proposal is not used: the first executable of fallback, default
        expected = (fallback(state), "fallback") if fallback_ok else (float(default), "default")
        assert (decision.action, decision.outcome) == expected
    else:
        assert decision.outcome in ("projected", "fallback" if fallback_ok else "default")


@settings(max_examples=200, deadline=None)
@given(action=st.floats(-10, 10), position=st.floats(-200, 200), limit=st.floats(1, 150))
def test_property_bisection_is_nearest_for_a_position_limit(action, position, limit):
    layer = SafetyLayer((-10, 10), [position_limit(limit)], fallback_policy=lambda s: 0.0,
                        tolerance=1e-9)
    state = {"position": position}
    clipped = float(np.clip(action, -10, 10))
    if abs(position + clipped) <= limit:
        assert layer.filter_action(action, state) == clipped
    elif abs(position) > limit:  # the fallback (no trade) fails too
        with pytest.raises(NoSafeActionError):
            layer.filter_action(action, state)
    else:
        nearest = float(np.clip(clipped, -limit - position, limit - position))
        assert abs(layer.filter_action(action, state) - nearest) <= 1e-6


def test_decide_returns_a_safety_decision():
    layer = SafetyLayer((-10, 10), [position_limit(100)], lambda s: 0.0)
    decision = layer.decide(10.0, LESSON_STATE)
    assert isinstance(decision, SafetyDecision)
    assert (decision.action, decision.proposed, decision.outcome) == (5.0, 10.0, "projected")
    assert decision.reason == "position_limit: position 105.0 would exceed the limit 100.0"
    assert layer.decide(1.0, LESSON_STATE) == SafetyDecision(1.0, 1.0, "passed", None)


def test_no_safe_action_error_is_the_package_error():
    assert NoSafeActionError is errors.NoSafeActionError
    assert issubclass(NoSafeActionError, errors.Error)
    assert issubclass(NoSafeActionError, RuntimeError)
    layer = SafetyLayer((-10, 10), [position_limit(100)])
    with pytest.raises(errors.Error, match="no safe action"):
        layer.filter_action(10.0, LESSON_STATE)


def test_evaluate_constraint_fails_closed_and_says_when_it_raised():
    assert evaluate_constraint("ok", lambda a, s: (np.array([True]), None), 0.0, {}) == (
        None, False)
    assert evaluate_constraint("limit", lambda a, s: (False, ""), 0.0, {}) == (
        "limit: violated", False)
    reason, raised = evaluate_constraint("key", raises_key_error, 0.0, {})
    assert raised and reason == "key raised KeyError: 'missing'"
    reason, raised = evaluate_constraint("bad", lambda a, s: (np.array([1, 0]), None), 0.0, {})
    assert not raised and reason.startswith("bad returned is_safe=")


def test_nearest_safe_point_bisects_towards_the_target():
    point, moved = nearest_safe_point(0.0, 10.0, lambda x: x <= 2.5, tolerance=1e-9)
    assert moved and point <= 2.5 and abs(point - 2.5) <= 1e-9
    assert nearest_safe_point(0.0, 10.0, lambda x: x <= 0.0) == (0.0, False)
    assert nearest_safe_point(3.0, 3.0, lambda x: False) == (3.0, False)
    calls = []
    nearest_safe_point(0.0, 1.0, lambda x: calls.append(x) or True, tolerance=1 / 1024)
    assert len(calls) == 10  # log2(length / tolerance) checks


def test_nearest_safe_point_validates_its_arguments():
    with pytest.raises(InvalidTypeError, match="is_safe must be callable"):
        nearest_safe_point(0.0, 1.0, "x")
    with pytest.raises(InvalidTypeError, match="tolerance must be a finite number > 0"):
        nearest_safe_point(0.0, 1.0, bool, tolerance=True)
    with pytest.raises(InvalidValueError, match="tolerance must be a finite number > 0"):
        nearest_safe_point(0.0, 1.0, bool, tolerance=0.0)


def test_a_stated_safe_action_answers_when_nothing_passes_and_is_counted():
    layer = SafetyLayer((-10, 10), [position_limit(100)], safe_action=0.0)
    decisions = [layer.decide(a, {"position": 95}) for a in (10.0, 3.0, 8.0)]
    assert [(d.action, d.outcome) for d in decisions] == [
        (0.0, "no_safe_action"), (3.0, "passed"), (0.0, "no_safe_action")]
    assert "position 105.0" in decisions[0].reason and "safe_action" in decisions[0].reason
    out = layer.filter_action(np.array([10.0]), {"position": 95})  # the proposal's form
    assert isinstance(out, np.ndarray) and out.shape == (1,) and out[0] == 0.0
    stats = layer.get_safety_stats()
    assert stats["no_safe_action"] == stats["safe_action_uses"] == 3
    assert stats["outcomes"]["no_safe_action"] == 3 and stats["interventions"] == 3
    assert stats["intervention_rate"] == 0.75 and stats["total_violations"] == 3
    assert [e["degraded"] for e in stats["recent_violations"] if e["event"] == "no_safe_action"] \
        == [True] * 3


def test_a_safe_fallback_still_comes_before_the_stated_safe_action():
    layer = SafetyLayer((-10, 10), [position_limit(100)], reduce_position(10), safe_action=0.0)
    assert layer.decide(10.0, {"position": 95}).outcome == "projected"
    assert layer.get_safety_stats()["safe_action_uses"] == 0


def test_without_a_safe_action_the_layer_still_raises_and_counts():
    layer = SafetyLayer((-10, 10), [position_limit(100)])
    with pytest.raises(NoSafeActionError, match="position 105.0"):
        layer.decide(10.0, {"position": 95})
    stats = layer.get_safety_stats()
    assert stats["no_safe_action"] == 1 and stats["safe_action_uses"] == 0
    assert stats["interventions"] == 0


@pytest.mark.parametrize("bad, error", [(11.0, InvalidValueError),
                                        (float("nan"), InvalidValueError),
                                        ("hold", InvalidTypeError)])
def test_a_bad_safe_action_is_refused(bad, error):
    with pytest.raises(error, match="safe_action"):
        SafetyLayer((-10, 10), [position_limit(100)], safe_action=bad)


def test_filter_discrete_degrades_to_the_index_of_the_safe_action():
    layer = SafetyLayer(constraint_functions=[position_limit(100)], safe_action=0.0)
    assert layer.filter_discrete(1, {"position": 150}, [-10.0, 0.0, 10.0]) == 1  # nothing safe
    assert layer.filter_discrete(2, {"position": 95}, [-10.0, 0.0, 10.0]) == 1   # nearest safe
    stats = layer.get_safety_stats()
    assert stats["safe_action_uses"] == 1 and stats["outcomes"]["projected"] == 1
    reasons = [e["reasons"] for e in stats["recent_violations"] if e["event"] == "no_safe_action"]
    assert reasons == [["every one of [-10.0, 0.0, 10.0] fails a check"]]
    with pytest.raises(InvalidValueError, match="not one of the candidates"):
        layer.filter_discrete(0, {"position": 0}, [-10.0, 10.0])
