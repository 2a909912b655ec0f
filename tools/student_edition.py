"""Write the student edition of the lessons: every solution replaced by a stub.

Usage: python tools/student_edition.py NOTEBOOK_DIR OUTPUT_DIR

In the lessons, an exercise is a markdown task, a code cell tagged ``solution`` whose answer lies
between the lines ``### BEGIN SOLUTION`` and ``### END SOLUTION``, and a code cell tagged
``check`` that asserts the answer. The student edition keeps everything else, replaces each
answer with ``raise NotImplementedError()`` (so the check fails until the student writes it) and
clears all outputs, so students see their own results.
"""

import re
import sys
from pathlib import Path

import nbformat

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
STUB = "# YOUR CODE HERE\nraise NotImplementedError()"
REGION = re.compile(
    rf"^(?P<indent>[ \t]*){re.escape(BEGIN)}[^\n]*\n.*?^[ \t]*{re.escape(END)}[^\n]*$",
    re.MULTILINE | re.DOTALL,
)


def replace_solution(source: str, replacement: str) -> str:
    """Replace every solution region in ``source`` with ``replacement``, indented like the region.

    ``replacement`` is written from column 0; each of its lines takes the indentation of the
    ``### BEGIN SOLUTION`` line, so an answer inside a function body stays inside it.
    """
    if BEGIN not in source:
        raise ValueError(f"a cell tagged 'solution' has no {BEGIN!r} line:\n{source}")
    lines = replacement.strip("\n").splitlines()
    result = REGION.sub(
        lambda m: "\n".join(m["indent"] + line if line.strip() else "" for line in lines),
        source,
    )
    if BEGIN in result or END in result:
        raise ValueError(f"unbalanced solution markers in:\n{source}")
    return result


def stub_out(source: str) -> str:
    """Replace every solution region in ``source`` with an indented stub."""
    return replace_solution(source, STUB)


def student_notebook(nb):
    """A copy of ``nb`` with solutions stubbed and outputs cleared."""
    nb = nbformat.from_dict(nb)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        if "solution" in cell.metadata.get("tags", []):
            cell.source = stub_out(cell.source)
        cell.outputs = []
        cell.execution_count = None
    return nb


def main(source: Path, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    paths = sorted(source.glob("*.ipynb"))
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        nbformat.write(student_notebook(nb), target / path.name)
    print(f"wrote the student edition of {len(paths)} lessons to {target}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python tools/student_edition.py NOTEBOOK_DIR OUTPUT_DIR")
    main(Path(sys.argv[1]), Path(sys.argv[2]))
