"""Durable writes: fsync before the rename, the folder after it, the old file kept on failure."""

import os

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from rl_best_practices import storage
from rl_best_practices.errors import InvalidTypeError, InvalidValueError, MissingFileError
from rl_best_practices.feedback import write_parquet_atomically


@pytest.fixture
def fsyncs(monkeypatch):
    """Record what is fsync'd (a file or a folder) in order, and each rename."""
    events = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        events.append("fsync folder" if os.path.isdir(f"/proc/self/fd/{fd}") else "fsync file")
        real_fsync(fd)

    def replace(src, dst):
        events.append("rename")
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    return events


@pytest.mark.parametrize("write", [
    lambda path: storage.atomic_write_json(path, {"a": 1}),
    lambda path: write_parquet_atomically(pa.table({"a": [1]}), path),
], ids=["json", "parquet"])
def test_file_is_synced_before_the_rename_and_the_folder_after(tmp_path, fsyncs, write):
    write(tmp_path / "state")
    assert fsyncs == ["fsync file", "rename", "fsync folder"]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "state.json"
    storage.atomic_write_json(path, {"a": 1})
    with pytest.raises(InvalidValueError, match="cannot hold this data exactly"):
        storage.atomic_write_json(path, {"a": float("nan")})
    with pytest.raises(InvalidTypeError, match="cannot hold this data"):
        storage.atomic_write_json(path, {"a": object()})
    with pytest.raises(ZeroDivisionError):
        storage.atomic_write(path, lambda handle: 1 / 0)
    assert storage.read_json(path) == {"a": 1} and os.listdir(tmp_path) == ["state.json"]


def test_parquet_round_trip(tmp_path):
    path = write_parquet_atomically(pa.table({"x": [1.5, 2.5]}), tmp_path / "x.parquet")
    assert pq.read_table(path).column("x").to_pylist() == [1.5, 2.5]


def test_reads_are_strict(tmp_path):
    with pytest.raises(MissingFileError, match="no file at"):
        storage.read_json(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text('{"a": NaN}')
    with pytest.raises(InvalidValueError, match="non-finite"):
        storage.read_json(tmp_path / "bad.json")
    storage.atomic_write_json(tmp_path / "other.json", {"kind": "checklist"})
    with pytest.raises(InvalidValueError, match="expected a 'registry' file"):
        storage.read_json(tmp_path / "other.json", kind="registry")
