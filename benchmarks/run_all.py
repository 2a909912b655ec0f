"""Run every benchmark in this folder and print one Markdown table; also write RESULTS.md.

Usage: python benchmarks/run_all.py [name ...]   (names like ``env`` for ``bench_env.py``)
"""

import importlib
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import machine, markdown_table  # noqa: E402


def main(names: list[str]) -> None:
    modules = sorted(p.stem for p in HERE.glob("bench_*.py"))
    if names:
        unknown = sorted(set(f"bench_{n}" for n in names) - set(modules))
        if unknown:
            sys.exit(f"unknown benchmarks {unknown}; available: {[m[6:] for m in modules]}")
        modules = [f"bench_{n}" for n in names]
    rows = []
    for name in modules:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        rows.extend(importlib.import_module(name).run())
    table = f"Machine: {machine()}\n\n{markdown_table(rows)}\n"
    print(table)
    if not names:
        header = "# Benchmark results\n\nWritten by `make bench`.\n\n"
        (HERE / "RESULTS.md").write_text(header + table)
        update_readme(table)


def update_readme(table: str) -> None:
    """Put the latest table between the README's bench markers."""
    readme = HERE.parent / "README.md"
    text = readme.read_text()
    start, end = "<!-- bench:start -->", "<!-- bench:end -->"
    if start in text and end in text:
        head, rest = text.split(start, 1)
        readme.write_text(f"{head}{start}\n{table}{end}{rest.split(end, 1)[1]}")


if __name__ == "__main__":
    main(sys.argv[1:])
