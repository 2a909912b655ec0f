"""What the store's durability rests on, checked where it is decided.

Killing a writer with SIGKILL (lesson 05's crash test) proves that a *process* crash loses no
acknowledged record: the operating system's page cache survives the process. Power loss does
not spare the page cache; surviving it rests on the data reaching the disk (``fsync`` or
``fdatasync``) before the acknowledgement. These tests read back the SQLite settings that
promise it and, with ``strace``, count that every acknowledged record was preceded by a sync.
"""

import re
import shutil
import sqlite3
import subprocess
import sys
import textwrap

import pytest

from rl_best_practices import errors
from rl_best_practices.feedback import HumanFeedbackCollector

RECORDS = 20


def test_the_store_reads_back_wal_and_full_sync(tmp_path):
    with HumanFeedbackCollector(tmp_path / "fb.sqlite") as store:
        assert store.durability() == {"journal_mode": "wal", "synchronous": "FULL"}


def test_a_batch_acknowledges_only_after_its_commit(tmp_path):
    with HumanFeedbackCollector(tmp_path / "fb.sqlite", clock=lambda: 0.0) as store:
        with store.batch() as batch:
            inside = store.record_trajectory_rating("a", 3)
            retried = store.record_preference("a", "b", "a", record_id="p-1")
            with pytest.raises(errors.InvalidStateError, match="not acknowledged yet"):
                batch.ids  # noqa: B018
            with HumanFeedbackCollector(tmp_path / "fb.sqlite") as reader:
                assert reader.record_ids() == set()  # not committed, so not acknowledged
        assert inside is None and retried is None
        assert batch.ids == ("rating-1", "p-1")
        with pytest.raises(errors.InvalidValueError):
            with store.batch() as failed:
                store.record_trajectory_rating("c", 99)
        with pytest.raises(errors.InvalidStateError):
            failed.ids  # noqa: B018
        assert store.record_trajectory_rating("d", 4) == "rating-2"  # outside: the id at once


WRITER = textwrap.dedent(
    """
    import sqlite3, sys
    from rl_best_practices.feedback import HumanFeedbackCollector
    path, mode = sys.argv[1], sys.argv[2]
    if mode == "store":
        store = HumanFeedbackCollector(path, clock=lambda: 0.0)
        record = lambda i: store.record_trajectory_rating(f"t{i}", 3)
    else:  # the control: SQLite's common WAL setting, synchronous=NORMAL
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("CREATE TABLE r (id INTEGER PRIMARY KEY, x TEXT)")
        record = lambda i: conn.execute("INSERT INTO r (x) VALUES (?)", (f"t{i}",))
    sys.stdout.write("READY\\n"); sys.stdout.flush()
    for i in range(RECORDS):
        record(i)
        sys.stdout.write(f"ACK {i}\\n"); sys.stdout.flush()
    """
).replace("RECORDS", str(RECORDS))


def _unsynced_acks(tmp_path, mode):
    """The acknowledgements (ACK lines written to stdout) that no fsync/fdatasync preceded
    since the previous acknowledgement."""
    trace = tmp_path / f"{mode}.trace"
    subprocess.run(
        ["strace", "-f", "-qq", "-e", "trace=fsync,fdatasync,write", "-o", str(trace),
         sys.executable, "-c", WRITER, str(tmp_path / f"{mode}.sqlite"), mode],
        check=True, capture_output=True, timeout=120,
    )
    synced, started, acks, unsynced = False, False, 0, []
    for line in trace.read_text().splitlines():
        if re.search(r'write\(1, "READY', line):
            started, synced = True, False
        elif started and re.search(r"\b(fsync|fdatasync)\(", line):
            synced = True
        elif started and (m := re.search(r'write\(1, "ACK (\d+)', line)):
            acks += 1
            if not synced:
                unsynced.append(int(m.group(1)))
            synced = False
    return acks, unsynced


def _strace_works():
    if shutil.which("strace") is None:
        return False
    probe = subprocess.run(["strace", "-qq", "-o", "/dev/null", "true"], capture_output=True)
    return probe.returncode == 0


@pytest.mark.skipif(not _strace_works(),
                    reason="strace is not installed (apt-get install strace) or may not trace "
                    "here (ptrace not permitted, e.g. in a container without CAP_SYS_PTRACE)")
def test_every_acknowledged_record_was_synced_to_disk_first(tmp_path):
    acks, unsynced = _unsynced_acks(tmp_path, "store")
    assert acks == RECORDS and unsynced == []
    # the check can fail: WAL with synchronous=NORMAL acknowledges without syncing
    acks, unsynced = _unsynced_acks(tmp_path, "control")
    assert acks == RECORDS and len(unsynced) == RECORDS


def _fail_when_an_id_is_assigned(path, table):
    """A trigger, made by a second connection, that fails the statement giving a generated-id
    record its id: a crash between the row's insert and its id."""
    with sqlite3.connect(path, isolation_level=None) as other:
        other.execute(f"CREATE TRIGGER crash BEFORE UPDATE OF record_id ON {table} "
                      "BEGIN SELECT RAISE(ABORT, 'injected crash'); END")


def _stored(path):
    with sqlite3.connect(path) as other:
        return {table: other.execute(f"SELECT record_id FROM {table}").fetchall()
                for table in ("ratings", "corrections", "preferences")}


@pytest.mark.parametrize("kind", ["ratings", "corrections", "preferences"])
def test_a_crash_before_a_generated_id_is_assigned_leaves_no_half_record(tmp_path, kind):
    path = tmp_path / "fb.sqlite"
    record = {
        "ratings": lambda s: s.record_trajectory_rating("t", 4),
        "corrections": lambda s: s.record_action_correction([0.5, 0.1], 1, 2),
        "preferences": lambda s: s.record_preference("a", "b", "a"),
    }[kind]
    with HumanFeedbackCollector(path, clock=lambda: 0.0) as store:
        store.record_trajectory_rating("kept", 3, record_id="r-0")
        before = _stored(path)
        _fail_when_an_id_is_assigned(path, kind)
        with pytest.raises(sqlite3.IntegrityError, match="injected crash"):
            record(store)
        assert _stored(path) == before  # the row, its id and the shape are one transaction
        with sqlite3.connect(path, isolation_level=None, timeout=0.1) as other:
            other.execute("BEGIN IMMEDIATE")  # the write lock was released
            other.execute("ROLLBACK")
        with sqlite3.connect(path, isolation_level=None) as other:
            other.execute("DROP TRIGGER crash")
        prefix = {"ratings": "rating", "corrections": "correction", "preferences": "preference"}
        expected = f"{prefix[kind]}-{2 if kind == 'ratings' else 1}"
        assert record(store) == expected  # the retry stores it once, under the next free id
        after = _stored(path)
        assert after[kind] == before[kind] + [(expected,)]
    with HumanFeedbackCollector(path) as reopened:  # and a correction of another shape is refused
        if kind == "corrections":
            with pytest.raises(errors.InvalidValueError, match="shape"):
                reopened.record_action_correction([0.5], 1, 2)
