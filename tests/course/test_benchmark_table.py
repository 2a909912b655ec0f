"""The README's results tables are the results files, word for word.

Each results file of ``benchmarks/run_all.py``'s ``MIRRORS`` (``RESULTS.md`` for the
benchmarks, ``MUTATION.md`` for mutation testing once it exists) has its text below the ``# ``
title (and below a ``Written by ...`` paragraph right after it) copied between the README's
``<!-- name:start -->`` and ``<!-- name:end -->`` markers.
These tests compare the text only; they never run a benchmark.
"""

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCHMARKS = ROOT / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import run_all  # noqa: E402

README = ROOT / "README.md"
MARKER = re.compile(r"<!-- ([\w-]+):(start|end) -->")


def mirrors() -> dict[str, str]:
    return run_all.MIRRORS


def body(text: str) -> str:
    """The mirrored part of a results file, as run_all writes it (without the final newline)."""
    return run_all.body(text).strip()


def readme_block(readme: str, name: str) -> str | None:
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    if start not in readme or end not in readme:
        return None
    return readme.split(start, 1)[1].split(end, 1)[0].strip()


def mismatch(readme: str, name: str, results: str, filename: str) -> str | None:
    """Why the README's ``name`` block is not the body of ``results``, or None if it is."""
    block = readme_block(readme, name)
    if block is None:
        return f"README.md has no <!-- {name}:start --> ... <!-- {name}:end --> markers"
    expected = body(results)
    if block == expected:
        return None
    got, want = block.splitlines(), expected.splitlines()
    for i, (a, b) in enumerate(zip(got, want, strict=False)):
        if a != b:
            return (f"README.md's {name} block differs from benchmarks/{filename} at line "
                    f"{i + 1}:\n  README:  {a}\n  {filename}: {b}\nRun `python "
                    "benchmarks/run_all.py --mirror` (or `make bench`) to copy it again.")
    return (f"README.md's {name} block has {len(got)} lines, benchmarks/{filename} "
            f"{len(want)}; run `python benchmarks/run_all.py --mirror`.")


def test_mirrors_name_the_benchmark_results():
    assert mirrors()["bench"] == "RESULTS.md"


@pytest.mark.parametrize("name", sorted(mirrors()))
def test_each_results_file_present_is_mirrored_in_the_readme_word_for_word(name):
    path, readme = BENCHMARKS / mirrors()[name], README.read_text()
    if not path.exists():
        pytest.skip(f"benchmarks/{path.name} is not written yet")
    if name != "bench" and readme_block(readme, name) is None:
        pytest.skip(f"README.md has no {name} markers yet: benchmarks/{path.name} is not mirrored")
    problem = mismatch(readme, name, path.read_text(), path.name)
    assert problem is None, problem


def test_every_readme_marker_pair_has_a_results_file_and_closes():
    readme = README.read_text()
    found = MARKER.findall(readme)
    names = {name for name, _ in found}
    assert "bench" in names
    for name in names:
        assert name in mirrors(), f"README marker {name!r} names no results file in MIRRORS"
        assert [kind for n, kind in found if n == name] == ["start", "end"], (
            f"README's {name} markers must appear once each, start before end")


def test_the_results_record_the_commit_and_date_they_were_measured_on():
    text = (BENCHMARKS / "RESULTS.md").read_text()
    assert re.search(r"^Measured on commit `[0-9a-f]{40}`( \+ uncommitted changes)?, "
                     r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC", text, re.M), (
        "benchmarks/RESULTS.md does not say which commit and date it measured: run `make bench`")


def test_every_table_row_has_six_cells():
    """A literal | inside a cell would shift the columns: run_all escapes it as \\|."""
    for line in (BENCHMARKS / "RESULTS.md").read_text().splitlines():
        if line.startswith("|"):
            cells = re.split(r"(?<!\\)\|", line)[1:-1]
            assert len(cells) == 6, f"not six cells: {line}"


RESULTS = """# Benchmark results

Measured on commit `{sha}`, 2026-01-01 00:00 UTC, by `make bench`.

| figure | value | baseline or anchor (same run) | ratio | target | met |
|---|---|---|---|---|---|
| a | 1 | 2 | 0.50x | ≤ 1x | yes |
""".format(sha="0" * 40)


def readme_with(block: str) -> str:
    return f"# Course\n\n<!-- bench:start -->\n{block}<!-- bench:end -->\n\nmore text\n"


def test_the_comparison_passes_on_a_faithful_copy():
    assert mismatch(readme_with(body(RESULTS) + "\n"), "bench", RESULTS, "RESULTS.md") is None


def test_the_comparison_fails_on_a_changed_cell_a_missing_row_or_missing_markers():
    changed = readme_with(body(RESULTS).replace("| yes |", "| NO |") + "\n")
    problem = mismatch(changed, "bench", RESULTS, "RESULTS.md")
    assert problem is not None and "line 5" in problem and "| NO |" in problem
    short = readme_with("\n".join(body(RESULTS).splitlines()[:-1]) + "\n")
    assert "lines" in mismatch(short, "bench", RESULTS, "RESULTS.md")
    assert "markers" in mismatch("# Course\n", "bench", RESULTS, "RESULTS.md")
