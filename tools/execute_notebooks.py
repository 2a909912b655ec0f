"""Re-run notebooks in place, top to bottom, each in a fresh kernel.

Usage: python tools/execute_notebooks.py NOTEBOOK.ipynb [...]

No per-run timing metadata is stored, so re-running changes only the outputs of cells whose
output cannot be stable (tagged ``nbval-ignore-output``) and ``git diff notebooks/`` stays quiet.
"""

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def execute(path: Path) -> float:
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(
        nb,
        timeout=900,
        kernel_name="python3",
        record_timing=False,
        resources={"metadata": {"path": str(path.parent)}},
    ).execute()
    elapsed = time.perf_counter() - start
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    nbformat.write(nb, path)
    return elapsed


def main(paths: list[str]) -> None:
    if not paths:
        sys.exit("usage: python tools/execute_notebooks.py NOTEBOOK.ipynb [...]")
    for name in paths:
        seconds = execute(Path(name))
        print(f"{name}: executed in {seconds:.0f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
