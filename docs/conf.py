"""Sphinx configuration of the course site (`make html`).

The lessons are the committed, executed notebooks (``docs/lessons`` links to ``notebooks/``),
rendered by MyST-NB with their stored outputs: nothing is re-executed here, nbval keeps the
outputs true. The index is README.md, the benchmark page benchmarks/RESULTS.md, and the API
reference is generated from the docstrings by autodoc and autosummary into ``docs/reference/``
(not committed; rewritten by every build).
"""

import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

project = "rl-best-practices"
author = "the rl-best-practices authors"
copyright = "the rl-best-practices authors"

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",  # MathJax copied into the site: it renders without a network
]
templates_path = ["_templates"]
exclude_patterns = ["_build", "**/.ipynb_checkpoints"]

# MyST-NB: show the stored outputs; never execute a notebook during the build.
nb_execution_mode = "off"
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "colon_fence"]
myst_heading_anchors = 3

# API reference: one page per module, following the package layout.
autosummary_generate = True
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
# Document the package's own docstrings only: a method that overrides Gymnasium's without a
# docstring of its own would otherwise show Gymnasium's, written for another renderer.
autodoc_inherit_docstrings = False
autodoc_default_options = {"show-inheritance": True}
napoleon_google_docstring = True
napoleon_numpy_docstring = False
python_maximum_signature_line_length = 88

html_theme = "sphinx_book_theme"
html_title = "rl-best-practices"
html_show_sourcelink = True
html_static_path = ["_static"]
html_favicon = "_static/favicon.svg"
# The theme's empty default mode logs a console error on a reader's first visit.
html_context = {"default_mode": "auto"}
html_theme_options = {
    "home_page_in_toc": True,
    "navbar_persistent": [],  # search sits in the left sidebar; no second box in a top bar
    "show_toc_level": 2,
    "show_navbar_depth": 1,
    "use_download_button": True,
    "use_fullscreen_button": False,
}

# Shown at the top of every lesson page, under its title; added here rather than in the
# notebooks so that the notebooks stay exactly as executed.
RUN_IT_YOURSELF = """\
:::{{admonition}} Run this lesson yourself
:class: tip

In a clone of the course repository, `make lab` installs the pinned environment into `.venv/`
and opens JupyterLab on `notebooks/`; open `{name}` and choose *Run > Restart Kernel and Run All
Cells*. With conda instead: `conda env create -f environment.yml`, then
`conda activate rl-best-practices` and `jupyter lab notebooks/`. {duration}
:::
"""


def minutes_to_run(number: str) -> str | None:
    """The lesson's run time from the README's course map (one source), if it gives one."""
    header = None
    for line in (ROOT / "README.md").read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if header is None and "lesson" in cells and any(c.startswith("minutes") for c in cells):
            header = next(i for i, c in enumerate(cells) if c.startswith("minutes"))
        elif header is not None and cells[0] == number and len(cells) > header:
            return cells[header]
    return None


def add_run_note(app, docname: str, source: list[str]) -> None:
    """Insert the run-it-yourself note after the first cell of every lesson notebook."""
    if not docname.startswith("lessons/"):
        return
    notebook = json.loads(source[0])
    name = Path(docname).name
    minutes = minutes_to_run(name.split("_")[0])
    duration = (f"From a fresh kernel it runs in about {minutes} minutes on two CPU cores."
                if minutes else "")
    note = RUN_IT_YOURSELF.format(name=name + ".ipynb", duration=duration)
    cell = {"cell_type": "markdown", "id": "run-it-yourself", "metadata": {}, "source": note}
    notebook["cells"].insert(1, cell)
    source[0] = json.dumps(notebook)


def remove_stale_reference(app) -> None:
    """Start autosummary from an empty ``reference/``: a removed module leaves no stale page."""
    shutil.rmtree(Path(app.srcdir) / "reference", ignore_errors=True)


def setup(app) -> None:
    app.connect("builder-inited", remove_stale_reference, priority=100)  # before autosummary
    app.connect("source-read", add_run_note)
