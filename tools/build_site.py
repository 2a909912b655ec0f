"""Build the course's static site: the course map, every executed lesson, the API reference.

Usage: python tools/build_site.py NOTEBOOK_DIR OUTPUT_DIR

* ``index.html``: what the course is and the course map, taken from README.md (one source).
* ``<lesson>.html``: each notebook rendered with its stored outputs and figures.
* ``api.html``: every public name of every module of ``rl_best_practices``, with its signature
  and docstring.
"""

import html
import importlib
import inspect
import pkgutil
import re
import sys
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter
from nbconvert.filters import markdown2html

ROOT = Path(__file__).resolve().parents[1]
STYLE = (
    "<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;"
    "padding:0 1rem;line-height:1.5}table{border-collapse:collapse}"
    "td,th{border:1px solid #ccc;padding:.3rem .5rem}"
    "pre{background:#f6f8fa;padding:.6rem;overflow-x:auto}code{background:#f6f8fa}</style>"
)


def page(title: str, body: str) -> str:
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}"
        f"</title>{STYLE}</head><body>{body}</body></html>"
    )


def readme_section(heading: str) -> str:
    """The markdown under ``## heading`` in README.md, up to the next ``## ``."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    return match.group(1) if match else ""


def lesson_pages(source: Path, target: Path) -> dict[str, str]:
    """Render each notebook; return {two-digit lesson number: page name}."""
    exporter = HTMLExporter()
    pages = {}
    for path in sorted(source.glob("*.ipynb")):
        body, _ = exporter.from_notebook_node(nbformat.read(path, as_version=4))
        name = path.with_suffix(".html").name
        (target / name).write_text(body, encoding="utf-8")
        pages[path.name[:2]] = name
    return pages


def api_page() -> str:
    import rl_best_practices

    sections, toc = [], []
    for info in sorted(pkgutil.iter_modules(rl_best_practices.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"rl_best_practices.{info.name}")
        anchor = f"module-{info.name}"
        toc.append(f"<li><a href='#{anchor}'>rl_best_practices.{info.name}</a></li>")
        parts = [f"<h2 id='{anchor}'>rl_best_practices.{info.name}</h2>",
                 f"<pre>{html.escape(inspect.getdoc(module) or '')}</pre>"]
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if not (inspect.isclass(obj) or inspect.isfunction(obj)):
                continue
            try:
                signature = str(inspect.signature(obj))
            except (TypeError, ValueError):
                signature = ""
            kind = "class" if inspect.isclass(obj) else "def"
            parts.append(
                f"<h3 id='{info.name}.{name}'>"
                f"<code>{kind} {name}{html.escape(signature)}</code></h3>"
            )
            parts.append(f"<pre>{html.escape(inspect.getdoc(obj) or '')}</pre>")
            if inspect.isclass(obj):
                for meth_name, meth in inspect.getmembers(obj, inspect.isfunction):
                    if meth_name.startswith("_") or meth.__qualname__.split(".")[0] != obj.__name__:
                        continue
                    sig = html.escape(str(inspect.signature(meth)))
                    parts.append(f"<h4><code>{name}.{meth_name}{sig}</code></h4>"
                                 f"<pre>{html.escape(inspect.getdoc(meth) or '')}</pre>")
        sections.append("\n".join(parts))
    body = ("<p><a href='index.html'>Course home</a></p><h1>API reference</h1><ul>"
            + "".join(toc) + "</ul>" + "".join(sections))
    return page("rl-best-practices API reference", body)


def index_page(pages: dict[str, str]) -> str:
    course_map = markdown2html(readme_section("Course map"))
    # Link each lesson number in the map to its rendered page.
    for number, name in pages.items():
        course_map = course_map.replace(
            f"<td>{number}</td>", f"<td><a href='{name}'>{number}</a></td>", 1
        )
    intro = markdown2html(
        "Running reinforcement learning in production: each lesson measures how the naive code "
        "fails, then builds and tests the correct version inside Gymnasium and Ray RLlib."
    )
    body = (
        f"<h1>rl-best-practices</h1>{intro}<h2>Course map</h2>{course_map}"
        "<p><a href='api.html'>API reference of the "
        "<code>rl_best_practices</code> package</a></p>"
    )
    return page("rl-best-practices", body)


def main(source: Path, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    pages = lesson_pages(source, target)
    (target / "api.html").write_text(api_page(), encoding="utf-8")
    (target / "index.html").write_text(index_page(pages), encoding="utf-8")
    print(f"wrote {len(pages)} lessons, api.html and index.html to {target}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python tools/build_site.py NOTEBOOK_DIR OUTPUT_DIR")
    main(Path(sys.argv[1]), Path(sys.argv[2]))
