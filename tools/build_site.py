"""Render executed notebooks into a static site with an index page.

Usage: python tools/build_site.py NOTEBOOK_DIR OUTPUT_DIR
"""

import html
import sys
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter


def title_of(nb) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return "Untitled"


def main(source: Path, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    exporter = HTMLExporter()
    links = []
    for path in sorted(source.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        body, _ = exporter.from_notebook_node(nb)
        page = path.with_suffix(".html").name
        (target / page).write_text(body, encoding="utf-8")
        links.append(f'<li><a href="{page}">{html.escape(title_of(nb))}</a></li>')
    index = (
        "<!doctype html><html><head><meta charset='utf-8'><title>rl-best-practices</title></head>"
        "<body><h1>rl-best-practices</h1><p>Running reinforcement learning in production: the "
        "lessons, executed.</p><ol>" + "".join(links) + "</ol></body></html>"
    )
    (target / "index.html").write_text(index, encoding="utf-8")
    print(f"wrote {len(links)} lessons and index.html to {target}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python tools/build_site.py NOTEBOOK_DIR OUTPUT_DIR")
    main(Path(sys.argv[1]), Path(sys.argv[2]))
