"""Report how long each notebook took to re-execute under nbval (the course's time budget)."""

from collections import defaultdict

_NOTEBOOK_SECONDS: dict[str, float] = defaultdict(float)


def pytest_runtest_logreport(report):
    path = report.nodeid.split("::", 1)[0]
    if path.endswith(".ipynb"):
        _NOTEBOOK_SECONDS[path] += report.duration


def pytest_terminal_summary(terminalreporter):
    if not _NOTEBOOK_SECONDS:
        return
    terminalreporter.section("notebook run times")
    for path, seconds in sorted(_NOTEBOOK_SECONDS.items()):
        terminalreporter.write_line(f"{path}: {seconds:.0f} s")
    lessons = sum(s for p, s in _NOTEBOOK_SECONDS.items() if p.startswith("notebooks/"))
    terminalreporter.write_line(f"all lessons: {lessons:.0f} s")
