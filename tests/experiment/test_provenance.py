"""Lesson 04: seeding Python, NumPy and torch, and recording where a run comes from."""

import random
import shutil
import subprocess

import numpy as np
import pytest
import torch

from rl_best_practices import errors
from rl_best_practices.experiment import lineage, seed_everything


def draws():
    return random.random(), float(np.random.rand()), float(torch.rand(1))


def test_seed_everything_repeats_python_numpy_and_torch_draws():
    seed_everything(3)
    first = draws()
    seed_everything(3)
    assert draws() == first
    seed_everything(4)
    assert draws() != first


@pytest.mark.parametrize(
    "seed, error, message",
    [
        (-1, errors.InvalidValueError, r"seed must be an integer in \[0, 2147483647\], got -1"),
        (2**31, errors.InvalidValueError, "seed must be an integer in"),
        (True, errors.InvalidTypeError, "seed must be an integer"),
        (1.5, errors.InvalidTypeError, "seed must be an integer"),
        ("3", errors.InvalidTypeError, "seed must be an integer"),
    ],
)
def test_seed_everything_refuses_a_bad_seed_before_seeding_anything(seed, error, message):
    seed_everything(7)
    expected = draws()
    seed_everything(7)
    with pytest.raises(error, match=message) as caught:
        seed_everything(seed)
    assert isinstance(caught.value, ValueError)
    assert draws() == expected  # the refused call left every generator where it was


def git(repo, *args):
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_lineage_records_the_commit_and_whether_the_tree_is_dirty(tmp_path):
    git(tmp_path, "init", "-q")
    (tmp_path / "code.py").write_text("x = 1\n")
    git(tmp_path, "add", "code.py")
    git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "c")
    head = subprocess.run(["git", "-C", str(tmp_path), "rev-parse", "HEAD"],
                          capture_output=True, text=True, check=True).stdout.strip()
    clean = lineage(tmp_path, clock=lambda: 86400.0)
    assert clean["git"] == {"commit": head, "dirty": False}
    assert clean["created_at"] == "1970-01-02T00:00:00+00:00"
    assert clean["versions"]["numpy"] == np.__version__
    assert set(clean["versions"]) == {"gymnasium", "numpy", "ray", "rl-best-practices", "torch"}
    (tmp_path / "code.py").write_text("x = 2\n")
    assert lineage(tmp_path)["git"] == {"commit": head, "dirty": True}


def test_lineage_outside_a_repository_has_no_git_entry(tmp_path):
    assert lineage(tmp_path)["git"] is None


def test_lineage_refuses_a_clock_that_cannot_be_called(tmp_path):
    with pytest.raises(errors.InvalidTypeError, match="clock must be callable, got float"):
        lineage(tmp_path, clock=0.0)
