"""Durable JSON files: atomic writes and strict reads.

State a user relies on (normaliser statistics, configs, checklist evidence, a model registry) is
written to a temporary file in the same folder, flushed to disk, then renamed over the target, so
a crash leaves either the old file or the new one, never a torn one. JSON, never pickle: loading a
file cannot run code.

>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "state.json"
>>> atomic_write_json(path, {"kind": "demo", "value": 1.5})
>>> read_json(path, kind="demo")["value"]
1.5
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from rl_best_practices.errors import InvalidTypeError, InvalidValueError, MissingFileError

__all__ = ["atomic_write", "atomic_write_json", "json_sha256", "read_json"]


def _reject_non_finite(value: Any) -> Any:
    raise InvalidValueError(
        f"the file holds a non-finite number {value!r}, which JSON does not allow"
    )


def _canonical_json(data: Any, **options: Any) -> str:
    try:
        return json.dumps(data, allow_nan=False, **options)
    except TypeError as exc:
        raise InvalidTypeError(f"JSON cannot hold this data: {exc}") from None
    except ValueError as exc:
        raise InvalidValueError(f"JSON cannot hold this data exactly: {exc}") from None


def atomic_write(path: str | os.PathLike, write: Callable[[BinaryIO], None]) -> Path:
    """Call ``write(handle)`` on a temporary file beside ``path``, fsync it, rename it over
    ``path`` and fsync the folder: a crash leaves the old file or the new one, never a torn one.

    If ``write`` raises, the existing file is left untouched and the temporary file removed.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    if hasattr(os, "O_DIRECTORY"):  # make the rename itself durable
        dir_fd = os.open(path.parent, os.O_DIRECTORY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    return path


def atomic_write_json(path: str | os.PathLike, data: Any) -> None:
    """Write ``data`` as JSON to ``path`` with :func:`atomic_write`.

    Raises :class:`~rl_best_practices.errors.InvalidValueError` for data JSON cannot hold exactly
    (NaN, infinity) and :class:`~rl_best_practices.errors.InvalidTypeError` for objects it cannot
    hold at all; in both cases the existing file is left untouched.
    """
    text = _canonical_json(data, indent=2, sort_keys=True) + "\n"
    atomic_write(path, lambda handle: handle.write(text.encode("utf-8")))


def read_json(path: str | os.PathLike, kind: str | None = None) -> Any:
    """Read a JSON file written by :func:`atomic_write_json`.

    With ``kind``, the file must be an object whose ``"kind"`` field equals it, so that, say, a
    checklist file is never loaded as normaliser statistics. Raises ``FileNotFoundError`` for a
    missing file (:class:`~rl_best_practices.errors.MissingFileError`) and
    :class:`~rl_best_practices.errors.InvalidValueError` naming the file for anything malformed.
    """
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(f"no file at {path}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"), parse_constant=_reject_non_finite)
    except json.JSONDecodeError as exc:
        raise InvalidValueError(f"{path} is not valid JSON: {exc}") from exc
    if kind is not None:
        if not isinstance(data, dict) or data.get("kind") != kind:
            found = data.get("kind") if isinstance(data, dict) else type(data).__name__
            raise InvalidValueError(f"{path} holds {found!r}, expected a {kind!r} file")
    return data


def json_sha256(data: Any) -> str:
    """Hex SHA-256 of the canonical JSON of ``data`` (sorted keys, no spaces, no NaN).

    Equal data gives equal hashes whatever the key order: the identity of a config.

    >>> json_sha256({"b": 1, "a": [1, 2]}) == json_sha256({"a": [1, 2], "b": 1})
    True
    """
    text = _canonical_json(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
