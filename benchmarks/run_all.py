"""Run every benchmark in this folder and print one Markdown table; also write RESULTS.md.

Usage: python benchmarks/run_all.py [name ...]   (names like ``env`` for ``bench_env.py``)
       python benchmarks/run_all.py --mirror     (copy every results file into the README)

With names it only prints. Without, it writes ``RESULTS.md`` (the commit and date it measured,
the machine, the table) and mirrors it into the README. Every results file of :data:`MIRRORS`
is mirrored the same way: its text below its ``# `` title (and below a ``Written by ...``
paragraph right after the title) goes between the README's
``<!-- name:start -->`` and ``<!-- name:end -->`` markers, and
``tests/course/test_benchmark_table.py`` keeps the two equal.
"""

import datetime
import importlib
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from common import machine, markdown_table  # noqa: E402

MIRRORS = {"bench": "RESULTS.md", "mutation": "MUTATION.md"}
"""README marker name -> results file in this folder whose body the README mirrors."""


def commit() -> str:
    """The checked-out commit, and whether the work tree differs from it."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
    try:
        head = git("rev-parse", "HEAD")
        dirty = bool(git("status", "--porcelain"))
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return f"`{head}`" + (" + uncommitted changes" if dirty else "")


def body(text: str) -> str:
    """What the README mirrors of a results file: its text below the ``# `` title and below a
    ``Written by ...`` paragraph right after it (as ``tools/mutation.py`` writes)."""
    paragraphs = text.strip().split("\n\n")
    if paragraphs[0].startswith("# "):
        paragraphs = paragraphs[1:]
    if paragraphs and paragraphs[0].startswith("Written by"):
        paragraphs = paragraphs[1:]
    return "\n\n".join(paragraphs).strip() + "\n"


def main(names: list[str]) -> None:
    if names == ["--mirror"]:
        mirror_all()
        return
    modules = sorted(p.stem for p in HERE.glob("bench_*.py"))
    if names:
        unknown = sorted(set(f"bench_{n}" for n in names) - set(modules))
        if unknown:
            sys.exit(f"unknown benchmarks {unknown}; available: {[m[6:] for m in modules]}")
        modules = [f"bench_{n}" for n in names]
    measured = commit()  # before anything is written
    rows = []
    for name in modules:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        rows.extend(importlib.import_module(name).run())
    date = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    table = (f"Measured on commit {measured}, {date}, by `make bench`.\n\n"
             f"Machine: {machine()}\n\n{markdown_table(rows)}\n")
    print(table)
    if not names:
        (HERE / MIRRORS["bench"]).write_text(f"# Benchmark results\n\n{table}")
        mirror_all()


def mirror_all() -> None:
    """Copy the body of every results file that exists into the README."""
    for name, filename in MIRRORS.items():
        path = HERE / filename
        if path.exists():
            update_readme(name, body(path.read_text()))


def update_readme(name: str, text: str) -> None:
    """Put ``text`` between the README's ``name`` markers (when both are there)."""
    readme = ROOT / "README.md"
    content = readme.read_text()
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    if start in content and end in content:
        head, rest = content.split(start, 1)
        readme.write_text(f"{head}{start}\n{text}{end}{rest.split(end, 1)[1]}")


if __name__ == "__main__":
    main(sys.argv[1:])
