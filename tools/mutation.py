"""Mutation testing of the course's decision code: run mutmut, score each module, write the table.

Usage: python tools/mutation.py [--report-only] [--no-readme]

mutmut (configured under ``[tool.mutmut]`` in pyproject.toml) changes one small thing at a time in
the modules listed there (``<`` for ``<=``, ``and`` for ``or``, a constant, a dropped argument) and
runs the tests that reach the changed function. A mutant the tests fail on is *killed*; one they
pass on *survived*: either the tests miss a behaviour, or the change cannot alter behaviour (an
*equivalent* mutant). Equivalent mutants are listed, each with the reason, in
``tests/equivalent_mutants.toml``; a listed mutant that the tests kill, or that no longer exists,
is reported as stale so the list stays true.

Only decision code is scored: functions that only format text for people (``report``,
``to_markdown``, ``summary``...) are listed in ``PRESENTATION`` and left out of the score. The
table goes to ``benchmarks/MUTATION.md`` and into the README between its mutation markers
(``benchmarks/run_all.py`` mirrors it, as it does the benchmark table). The run's commit and
duration are kept in ``mutants/run.json``, so ``--report-only`` can score the same run again
(after listing an equivalent mutant, say) without running mutmut.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EQUIVALENT_FILE = ROOT / "tests" / "equivalent_mutants.toml"
RESULTS_FILE = ROOT / "benchmarks" / "MUTATION.md"
RUN_FILE = ROOT / "mutants" / "run.json"  # the commit and minutes of the last mutmut run
TARGET = 0.90

# Functions that only turn results into text for people, per module: outside the decision code.
PRESENTATION = {
    "rl_best_practices.checklist.gate": {
        "ProductionChecklist.report", "ProductionChecklist.print_checklist",
        "ProductionChecklist.to_markdown", "ProductionChecklist._marker",
    },
    "rl_best_practices.deployment.canary": {"Canary.summary", "_label"},
    "rl_best_practices.evaluation": {
        "SeedComparison.__str__", "NonInferiority.summary", "NonInferiority.__str__",
        "learning_curve_figure",
    },
    "rl_best_practices.safety.actions": {"_show", "_bounds_text"},
}

KILLED = {"killed", "timeout", "segfault", "caught by type check"}
# mutmut names a mutant module.xǁClassǁmethod__mutmut_N or module.x_function__mutmut_N
MUTANT = re.compile(
    r"^(?P<module>[\w.]+)\.x(?:ǁ(?P<cls>\w+)ǁ(?P<method>\w+)|_(?P<func>\w+))__mutmut_\d+$"
)


@dataclass
class ModuleScore:
    module: str
    killed: int = 0
    equivalent: int = 0
    survived: int = 0
    outside: int = 0

    @property
    def scored(self) -> int:
        return self.killed + self.survived

    @property
    def score(self) -> float:
        return self.killed / self.scored if self.scored else 1.0


def function_of(key: str) -> tuple[str, str]:
    """``(module, function)`` of a mutant's name, e.g. ``Canary.record``."""
    match = MUTANT.match(key)
    if not match:
        raise ValueError(f"unexpected mutant name {key!r}")
    function = match["func"] or f"{match['cls']}.{match['method']}"
    return match["module"], function


def statuses(mutants: Path) -> dict[str, str]:
    """Every mutant's status, from mutmut's per-file results."""
    from mutmut.stats import status_by_exit_code

    result = {}
    for meta in sorted(mutants.rglob("*.py.meta")):
        for key, code in json.loads(meta.read_text())["exit_code_by_key"].items():
            result[key] = status_by_exit_code[code]
    return result


def load_equivalent() -> dict[str, str]:
    table = tomllib.loads(EQUIVALENT_FILE.read_text()) if EQUIVALENT_FILE.exists() else {}
    mutants = table.get("mutant", {})
    empty = [key for key, why in mutants.items() if not str(why).strip()]
    if empty:
        raise SystemExit(f"{EQUIVALENT_FILE.name}: give the reason for {empty}")
    return mutants


def score(status: dict[str, str], equivalent: dict[str, str]):
    """Per-module scores, the surviving mutants and the stale equivalence entries."""
    modules: dict[str, ModuleScore] = {}
    mutated = {function_of(key)[0] for key in status}
    survivors = []
    stale = sorted(key for key in set(equivalent) - set(status) if function_of(key)[0] in mutated)
    for key, state in sorted(status.items()):
        if state == "not checked":
            raise SystemExit(f"{key} was not checked: the mutmut run did not finish")
        module, function = function_of(key)
        row = modules.setdefault(module, ModuleScore(module))
        if function in PRESENTATION.get(module, ()):
            row.outside += 1
        elif state in KILLED:
            row.killed += 1
            if key in equivalent:
                stale.append(key)
        elif key in equivalent:
            row.equivalent += 1
        else:
            row.survived += 1
            survivors.append((key, state))
    return sorted(modules.values(), key=lambda r: r.module), survivors, stale


def table(rows: list[ModuleScore], minutes: float, commit: str) -> str:
    lines = [
        f"Measured on commit {commit}; `make mutate` took {minutes:.0f} min.",
        "",
        "| module | mutants killed | equivalent (listed) | survived | presentation (not scored) "
        f"| score | target ≥ {TARGET:.0%} |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        met = "yes" if r.score >= TARGET else "NO"
        lines.append(
            f"| `{r.module.removeprefix('rl_best_practices.')}` | {r.killed} | {r.equivalent} "
            f"| {r.survived} | {r.outside} | {r.score:.1%} | {met} |"
        )
    return "\n".join(lines) + "\n"


def write(text: str, readme: bool) -> None:
    """Write benchmarks/MUTATION.md and mirror it into the README as `make bench` does."""
    from run_all import mirror_all

    from common import machine

    RESULTS_FILE.write_text(
        f"# Mutation testing\n\nWritten by `make mutate`.\n\nMachine: {machine()}\n\n{text}"
    )
    if readme:
        mirror_all()


def run_mutmut() -> None:
    """Run mutmut; its progress spinner goes to build/mutmut.log, a failure's cause to stderr."""
    log = ROOT / "build" / "mutmut.log"
    log.parent.mkdir(exist_ok=True)
    with log.open("w") as out:
        code = subprocess.run([sys.executable, "-m", "mutmut", "run", "--max-children", "2"],
                              cwd=ROOT, stdout=out, stderr=subprocess.STDOUT).returncode
    if code:
        lines = [line for line in log.read_text().replace("\r", "\n").splitlines()
                 if line.strip() and not "\u2800" <= line[0] <= "\u28ff"]  # not a spinner
        print("\n".join(lines[-40:]), file=sys.stderr)
        raise SystemExit(f"mutmut failed (exit {code}); its whole output is in {log}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report-only", action="store_true",
                        help="score the last run in mutants/ again without running mutmut")
    parser.add_argument("--no-readme", action="store_true", help="leave README.md as it is")
    args = parser.parse_args()
    if not args.report_only:
        from run_all import commit

        measured_on, started = commit(), time.perf_counter()
        run_mutmut()
        RUN_FILE.write_text(json.dumps(
            {"commit": measured_on, "minutes": (time.perf_counter() - started) / 60}))
    if not RUN_FILE.exists():
        raise SystemExit(f"no recorded mutmut run ({RUN_FILE} is missing): run without "
                         "--report-only first")
    run = json.loads(RUN_FILE.read_text())
    rows, survivors, stale = score(statuses(ROOT / "mutants"), load_equivalent())
    text = table(rows, run["minutes"], run["commit"])
    print(text)
    for key, state in survivors:
        print(f"{state}: {key}   (mutmut show {key})")
    for key in stale:
        print(f"stale entry in {EQUIVALENT_FILE.name}: {key} (killed or gone)")
    write(text, readme=not args.no_readme)
    if stale or any(r.score < TARGET for r in rows):
        sys.exit(1)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "benchmarks"))
    main()
