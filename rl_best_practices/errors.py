"""Every exception the package raises, under one base class.

Catch :class:`Error` to handle anything this package refuses. Each class also derives from the
builtin a caller would reach for, so ``except ValueError`` keeps working:

* :class:`InvalidValueError` (``ValueError``): an argument, a record or a file's content is not
  allowed. :class:`InvalidTypeError` is the same for a wrong type; it is a ``TypeError`` *and* a
  ``ValueError``, so every bad argument is caught by ``except ValueError``.
* :class:`ConfigError`, :class:`ConfigTypeError`, :class:`ConfigMismatchError`: an experiment
  config (lesson 04) is not allowed, or a recorded one was edited.
* :class:`MissingWeightError`, :class:`UnknownItemError` (``KeyError`` too): a name that is not
  known (a reward component, a checklist item).
* :class:`MissingFileError` (``FileNotFoundError``): a file or run directory that should exist.
* :class:`NotFittedError`, :class:`NoSafeActionError`, :class:`AllPoliciesFailedError`,
  :class:`InvalidStateError` (``RuntimeError``): the operation cannot happen in the current state.

>>> from rl_best_practices.validation import check_int
>>> try:
...     check_int("window", True, minimum=1)
... except Error as exc:
...     print(type(exc).__name__, isinstance(exc, TypeError), isinstance(exc, ValueError))
InvalidTypeError True True
"""

from __future__ import annotations

__all__ = [
    "AllPoliciesFailedError",
    "ConfigError",
    "ConfigMismatchError",
    "ConfigTypeError",
    "Error",
    "InvalidStateError",
    "InvalidTypeError",
    "InvalidValueError",
    "MissingFileError",
    "MissingWeightError",
    "NoSafeActionError",
    "NotFittedError",
    "OutdatedNameWarning",
    "EffectiveSampleSizeWarning",
    "UnknownItemError",
]


class Error(Exception):
    """Base class of every exception raised by ``rl_best_practices``."""

    def __str__(self) -> str:  # KeyError subclasses would otherwise print the message quoted
        return str(self.args[0]) if len(self.args) == 1 else super().__str__()


class InvalidValueError(Error, ValueError):
    """An argument, a record or a stored file holds a value that is not allowed."""


class InvalidTypeError(InvalidValueError, TypeError):
    """An argument has a type that is not allowed (also a ``TypeError``)."""


class ConfigError(InvalidValueError):
    """A setting of an experiment config (or its file) is not allowed."""


class ConfigTypeError(ConfigError, InvalidTypeError):
    """A setting of an experiment config has the wrong type (also a ``TypeError``)."""


class ConfigMismatchError(ConfigError):
    """A run's ``config.json`` no longer matches the hash recorded when the run started."""


class MissingWeightError(InvalidValueError, KeyError):
    """A reward component has no weight: every component must be weighted explicitly."""


class UnknownItemError(InvalidValueError, KeyError):
    """A checklist item that the checklist does not define."""


class MissingFileError(Error, FileNotFoundError):
    """A file or directory the package was asked to read does not exist."""


class NotFittedError(Error, RuntimeError):
    """A model is used before it was fitted."""


class InvalidStateError(Error, RuntimeError):
    """An object's current state does not allow the call (e.g. opening a batch inside a batch)."""


class NoSafeActionError(Error, RuntimeError):
    """The safety layer found no action that satisfies every constraint."""


class AllPoliciesFailedError(Error, RuntimeError):
    """Every policy of a fallback chain failed or was refused for one decision."""


class OutdatedNameWarning(FutureWarning, UserWarning):
    """An RLlib setting used an outdated name and was translated to the current one."""


class EffectiveSampleSizeWarning(UserWarning):
    """An off-policy estimate rests on few logged episodes: its effective sample size collapsed."""
