"""A circuit breaker: stop calling something that keeps failing, retry after a cool-down.

States follow the usual pattern (Nygard, *Release It!*):

* **closed**: calls go through; ``failure_threshold`` consecutive failures open the circuit;
* **open**: calls are refused (the caller routes to its fallback) until ``cooldown_s`` passed;
* **half-open**: one trial call is allowed; success closes the circuit, failure re-opens it.

Time comes from an injectable ``clock`` so behaviour is reproducible in tests and notebooks.

>>> now = [0.0]
>>> breaker = CircuitBreaker(failure_threshold=2, cooldown_s=10.0, clock=lambda: now[0])
>>> breaker.record_failure(); breaker.record_failure(); breaker.state
'open'
>>> breaker.allow_request()
False
>>> now[0] = 10.0; breaker.allow_request(), breaker.state
(True, 'half_open')
>>> breaker.record_success(); breaker.state
'closed'
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from rl_best_practices.validation import check_callable, check_int, check_number

__all__ = ["CircuitBreaker"]

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"


class CircuitBreaker:
    """Counts consecutive failures and refuses calls while open (see the module docstring).

    Args:
        failure_threshold: consecutive failures that open the circuit (>= 1).
        cooldown_s: seconds the circuit stays open before one trial call (> 0).
        clock: returns the current time in seconds; ``time.monotonic`` by default.
    """

    def __init__(
        self,
        failure_threshold: int = 5,
        cooldown_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.failure_threshold = check_int("failure_threshold", failure_threshold, minimum=1)
        self.cooldown_s = check_number("cooldown_s", cooldown_s, minimum=0, low_open=True)
        self.clock = check_callable("clock", clock)
        self._state = CLOSED
        self._consecutive_failures = 0
        self._opened_at = 0.0
        self.times_opened = 0
        self.transitions: deque[tuple[float, str]] = deque(maxlen=1000)  # (time, new state)

    @property
    def state(self) -> str:
        """``"closed"``, ``"open"`` or ``"half_open"`` (an open circuit past its cool-down
        reports ``"open"`` until :meth:`allow_request` admits the trial call)."""
        return self._state

    def _move(self, state: str) -> None:
        self._state = state
        self.transitions.append((self.clock(), state))

    def allow_request(self) -> bool:
        """Whether the protected call may be made now."""
        if self._state == OPEN and self.clock() - self._opened_at >= self.cooldown_s:
            self._move(HALF_OPEN)
        return self._state != OPEN

    def record_success(self) -> None:
        """The call succeeded: reset the failure count; a half-open circuit closes."""
        self._consecutive_failures = 0
        if self._state != CLOSED:
            self._move(CLOSED)

    def record_failure(self) -> None:
        """The call failed: a half-open circuit re-opens; a closed one opens at the threshold."""
        self._consecutive_failures += 1
        if self._state == HALF_OPEN or (
            self._state == CLOSED and self._consecutive_failures >= self.failure_threshold
        ):
            self._opened_at = self.clock()
            self.times_opened += 1
            self._move(OPEN)
