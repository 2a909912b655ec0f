"""The student edition: no solutions, every self-check fails on the stub.

It stays in step with the lessons.
"""

import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

from student_edition import BEGIN, END, stub_out, student_notebook  # noqa: E402

LESSONS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def tags(cell) -> set:
    return set(cell.metadata.get("tags", []))


def exercises(nb) -> list[tuple[int, int]]:
    """(solution index, check index) pairs."""
    pairs = []
    for i, cell in enumerate(nb.cells):
        if "solution" in tags(cell):
            j = i + 1
            assert j < len(nb.cells) and "check" in tags(nb.cells[j]), (
                f"cell {i}: no check cell after it"
            )
            pairs.append((i, j))
    return pairs


def solution_lines(source: str) -> list[str]:
    inside, lines = False, []
    for line in source.splitlines():
        if BEGIN in line:
            inside = True
        elif END in line:
            inside = False
        elif inside and line.strip() and not line.strip().startswith("#"):
            lines.append(line.strip())
    return lines


@pytest.fixture(scope="module", params=LESSONS, ids=lambda p: p.stem)
def lesson(request):
    teacher = nbformat.read(request.param, as_version=4)
    return request.param, teacher, student_notebook(teacher)


def test_stub_replaces_only_the_marked_region():
    source = (
        "def f(x):\n    y = 1\n    ### BEGIN SOLUTION\n    return x + y\n    ### END SOLUTION\n"
    )
    assert stub_out(source) == (
        "def f(x):\n    y = 1\n    # YOUR CODE HERE\n    raise NotImplementedError()\n"
    )
    with pytest.raises(ValueError, match="no"):
        stub_out("x = 1")


def test_each_lesson_has_at_least_two_exercises_with_task_solution_and_check(lesson):
    _, teacher, _ = lesson
    pairs = exercises(teacher)
    assert len(pairs) >= 2
    for solution, _ in pairs:
        assert teacher.cells[solution - 1].cell_type == "markdown", (
            "a task cell precedes the solution"
        )
        assert solution_lines(teacher.cells[solution].source), "the solution region holds code"


def test_student_edition_holds_no_solution_and_no_outputs(lesson):
    _, teacher, student = lesson
    for solution, _ in exercises(teacher):
        stubbed = student.cells[solution].source
        assert "raise NotImplementedError()" in stubbed and BEGIN not in stubbed
        for line in solution_lines(teacher.cells[solution].source):
            assert line not in stubbed.splitlines()
    assert all(not c.get("outputs") for c in student.cells if c.cell_type == "code")


def test_student_edition_is_in_step_with_the_lesson(lesson):
    _, teacher, student = lesson
    assert len(student.cells) == len(teacher.cells)
    for t, s in zip(teacher.cells, student.cells, strict=True):
        assert (t.cell_type, t.metadata.get("tags")) == (s.cell_type, s.metadata.get("tags"))
        if "solution" not in tags(t):
            assert t.source == s.source


def test_checks_pass_with_the_solutions_in_the_executed_lesson(lesson):
    _, teacher, _ = lesson
    for _, check in exercises(teacher):
        outputs = teacher.cells[check].outputs
        assert teacher.cells[check].execution_count is not None
        assert not [o for o in outputs if o.output_type == "error"]


def test_every_check_fails_on_the_stub(lesson):
    path, teacher, student = lesson
    NotebookClient(student, timeout=600, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    for _, check in exercises(teacher):
        errors = [o for o in student.cells[check].outputs if o.output_type == "error"]
        assert errors, f"{path.name}: the check in cell {check} passed on the stub"
