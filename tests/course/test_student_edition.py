"""The student edition and the exercise checks: a check fails on the stub, rejects wrong answers
and passes with the solution.

Each lesson runs once, cell by cell, in one kernel. At each exercise the kernel runs, in order,
the student's stub and the check, every plausible wrong answer of ``wrong_answers.py`` and the
check, then the teacher's solution and the check; the rest of the lesson runs as written.
"""

import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from student_edition import (  # noqa: E402
    BEGIN,
    END,
    STUB,
    replace_solution,
    stub_out,
    student_notebook,
)
from wrong_answers import WRONG_ANSWERS  # noqa: E402

LESSONS = sorted((ROOT / "notebooks").glob("*.ipynb"))
ANSI = re.compile(r"\x1b\[[0-9;]*m")


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


@dataclass
class Error:
    """The error a cell raised."""

    ename: str
    evalue: str
    traceback: str

    def __str__(self) -> str:
        return f"{self.ename}: {self.evalue}"


@dataclass
class Attempt:
    """An answer in the solution cell, then the check cell: the error of each (None: ran)."""

    answer: Error | None
    check: Error | None

    def first_error(self) -> Error | None:
        return self.answer or self.check


@dataclass
class ExerciseRun:
    number: int
    solution_cell: int
    check_cell: int
    stub: Attempt
    wrong: dict[str, Attempt]
    solution: Attempt
    extra_seconds: float  # the stub's and the wrong answers' runs, beyond the lesson's own


@dataclass
class LessonRun:
    name: str
    exercises: list[ExerciseRun] = field(default_factory=list)
    failure: str | None = None  # a cell outside the exercises that failed, or a solution


def run_cell(client: NotebookClient, source: str, index: int) -> Error | None:
    cell = nbformat.v4.new_code_cell(source)
    client.execute_cell(cell, index)
    for output in cell.outputs:
        if output.output_type == "error":
            trace = ANSI.sub("", "\n".join(output.traceback))
            return Error(output.ename, output.evalue, trace)
    return None


def run_exercise(client, teacher, student, wrong_answers, solution, check) -> ExerciseRun:
    """The stub, each wrong answer, then the solution, each followed by the check."""
    check_source = teacher.cells[check].source

    def attempt(source: str) -> Attempt:
        return Attempt(run_cell(client, source, solution), run_cell(client, check_source, check))

    start = time.perf_counter()
    stub = attempt(student.cells[solution].source)
    wrong = {
        label: attempt(replace_solution(teacher.cells[solution].source, code))
        for label, code in wrong_answers
    }
    extra = time.perf_counter() - start
    number = sum("solution" in tags(cell) for cell in teacher.cells[: solution + 1])
    solved = attempt(teacher.cells[solution].source)
    return ExerciseRun(number, solution, check, stub, wrong, solved, extra)


def run_lesson(path: Path, teacher, wrong_answers: dict | None = None) -> LessonRun:
    """Run the lesson once, trying the stub, the wrong answers and the solution at each exercise.

    ``wrong_answers`` maps an exercise number to its ``(label, code)`` pairs; by default the
    lesson's entry in ``WRONG_ANSWERS``.
    """
    if wrong_answers is None:
        wrong_answers = WRONG_ANSWERS.get(path.stem, {})
    student = student_notebook(teacher)
    pairs = dict(exercises(teacher))
    checks = set(pairs.values())
    result = LessonRun(path.stem)
    client = NotebookClient(student, timeout=600, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(path.parent)}})
    client.reset_execution_trackers()
    with client.setup_kernel():
        for i, cell in enumerate(teacher.cells):
            if cell.cell_type != "code" or i in checks:
                continue
            if i in pairs:
                wrong = wrong_answers.get(len(result.exercises) + 1, [])
                run = run_exercise(client, teacher, student, wrong, i, pairs[i])
                result.exercises.append(run)
                if run.solution.first_error():  # the rest of the lesson needs the answer
                    result.failure = f"cell {i}: the solution failed: {run.solution.first_error()}"
                    break
                continue
            error = run_cell(client, cell.source, i)
            if error:
                result.failure = f"cell {i} (not an exercise) failed: {error}\n{error.traceback}"
                break
    return result


@pytest.fixture(scope="module", params=LESSONS, ids=lambda p: p.stem)
def lesson(request):
    teacher = nbformat.read(request.param, as_version=4)
    return request.param, teacher, student_notebook(teacher)


@pytest.fixture(scope="module")
def lesson_run(lesson) -> LessonRun:
    path, teacher, _ = lesson
    return run_lesson(path, teacher)


def test_stub_replaces_only_the_marked_region():
    source = (
        "def f(x):\n    y = 1\n    ### BEGIN SOLUTION\n    return x + y\n    ### END SOLUTION\n"
    )
    assert stub_out(source) == (
        "def f(x):\n    y = 1\n    # YOUR CODE HERE\n    raise NotImplementedError()\n"
    )
    assert STUB in stub_out("a = 1\n### BEGIN SOLUTION\nb = 2\n### END SOLUTION\nc = 3")
    with pytest.raises(ValueError, match="no"):
        stub_out("x = 1")
    with pytest.raises(ValueError, match="unbalanced"):
        stub_out("### BEGIN SOLUTION\nx = 1\n")


def test_a_replacement_takes_the_indentation_of_the_region():
    source = "def f(x):\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION\nf(1)\n"
    assert replace_solution(source, "y = -x\n\nreturn y\n") == (
        "def f(x):\n    y = -x\n\n    return y\nf(1)\n"
    )


def test_the_run_tells_a_rejection_from_an_acceptance_a_crash_and_a_broken_cell(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("Write `double(x)`."),
        nbformat.v4.new_code_cell(
            "def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION",
            metadata={"tags": ["solution"]}),
        nbformat.v4.new_code_cell('assert double(3) == 6, "twice 3"',
                                  metadata={"tags": ["check"]}),
        nbformat.v4.new_code_cell("import a_module_that_does_not_exist"),
    ])
    path = tmp_path / "lesson.ipynb"
    nbformat.write(nb, path)
    wrong = {1: [("adds 3", "return x + 3"), ("adds 2", "return x + 2"),
                 ("crashes", "return x.double()")]}
    run = run_lesson(path, nbformat.read(path, as_version=4), wrong)
    (exercise,) = run.exercises
    assert exercise.stub.answer is None and exercise.stub.check.ename == "NotImplementedError"
    assert exercise.wrong["adds 3"].check is None  # this check cannot tell 3 + 3 from 2 * 3
    assert exercise.wrong["adds 2"].check.ename == "AssertionError"
    assert exercise.wrong["crashes"].check.ename == "AttributeError"
    assert exercise.solution == Attempt(None, None)
    assert run.failure.startswith("cell 3 (not an exercise) failed: ModuleNotFoundError")


def test_each_lesson_has_at_least_two_exercises_with_task_solution_and_check(lesson):
    _, teacher, _ = lesson
    pairs = exercises(teacher)
    assert len(pairs) >= 2
    for solution, _ in pairs:
        assert teacher.cells[solution - 1].cell_type == "markdown", (
            "a task cell precedes the solution"
        )
        assert solution_lines(teacher.cells[solution].source), "the solution region holds code"


def test_every_exercise_has_a_plausible_wrong_answer(lesson):
    path, teacher, _ = lesson
    numbers = set(range(1, len(exercises(teacher)) + 1))
    held = WRONG_ANSWERS.get(path.stem, {})
    assert set(held) == numbers, (
        f"{path.name}: exercises {sorted(numbers)}, wrong answers kept for {sorted(held)}"
    )
    for number, answers in held.items():
        assert answers, f"{path.name} exercise {number}: no wrong answer"
        solution = solution_lines(teacher.cells[exercises(teacher)[number - 1][0]].source)
        labels = [label for label, _ in answers]
        assert len(set(labels)) == len(labels), f"{path.name} exercise {number}: a label twice"
        for label, code in answers:
            lines = [line.strip() for line in code.splitlines()
                     if line.strip() and not line.strip().startswith("#")]
            assert label and lines and lines != solution, (
                f"{path.name} exercise {number}: {label!r} is the solution itself"
            )


def test_wrong_answers_are_kept_only_for_existing_lessons():
    stems = {path.stem for path in LESSONS}
    assert set(WRONG_ANSWERS) <= stems, f"no lesson for {sorted(set(WRONG_ANSWERS) - stems)}"


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


def test_the_lesson_runs_through_its_exercises(lesson, lesson_run):
    path, teacher, _ = lesson
    assert lesson_run.failure is None, f"{path.name}: {lesson_run.failure}"
    assert len(lesson_run.exercises) == len(exercises(teacher))


def test_every_check_fails_on_the_stub_with_not_implemented_error(lesson_run):
    for run in lesson_run.exercises:
        where = (f"{lesson_run.name} exercise {run.number} "
                 f"(cells {run.solution_cell}, {run.check_cell})")
        first = run.stub.first_error()
        assert first is not None, f"{where}: the check passed on the stub"
        assert first.ename == "NotImplementedError", f"{where}: the stub failed with {first}"
        assert "raise NotImplementedError()" in first.traceback, f"{where}: not the stub's raise"
        assert run.stub.check is not None, f"{where}: the check passed after the stub"


def test_every_check_rejects_every_wrong_answer(lesson_run):
    for run in lesson_run.exercises:
        for label, attempt in run.wrong.items():
            where = f"{lesson_run.name} exercise {run.number}, wrong answer {label!r}"
            assert attempt.answer is None, f"{where}: the answer itself failed: {attempt.answer}"
            assert attempt.check is not None, f"{where}: the check accepted it"
            assert attempt.check.ename == "AssertionError", (
                f"{where}: the check crashed instead of rejecting it: {attempt.check}"
                f"\n{attempt.check.traceback}"
            )


def test_every_check_passes_with_the_solution_executed(lesson_run):
    for run in lesson_run.exercises:
        where = f"{lesson_run.name} exercise {run.number}"
        assert run.solution.answer is None, f"{where}: the solution failed: {run.solution.answer}"
        assert run.solution.check is None, (
            f"{where}: the check failed on the solution: {run.solution.check}"
            f"\n{run.solution.check.traceback}"
        )
