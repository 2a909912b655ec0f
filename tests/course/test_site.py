"""`make html`'s site: an index with the course map, every lesson, the API reference.

The site has no dead links.
"""

import html
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINK = re.compile(r"""(?:href|src)\s*=\s*["']([^"']+)["']""")
ID = re.compile(r"""\b(?:id|name)\s*=\s*["']([^"']+)["']""")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    target = tmp_path_factory.mktemp("site")
    subprocess.run([sys.executable, str(ROOT / "tools" / "build_site.py"), str(ROOT / "notebooks"),
                    str(target)], check=True, capture_output=True, timeout=600)
    return target


def test_index_links_every_lesson_and_the_api_reference(site):
    index = (site / "index.html").read_text()
    links = set(LINK.findall(index))
    lessons = {p.with_suffix(".html").name for p in (ROOT / "notebooks").glob("*.ipynb")}
    assert len(lessons) == 6 and lessons | {"api.html"} <= links
    assert "Course map" in index


def test_api_reference_documents_the_lesson_classes(site):
    api = (site / "api.html").read_text()
    for name in ["RewardShaper", "SafetyLayer", "DistributionShiftDetector", "ExperimentConfig",
                 "HumanFeedbackCollector", "ProductionChecklist", "MarketEnv"]:
        assert f"class {name}(" in api


def test_every_internal_link_resolves(site):
    pages = {p.name: p.read_text() for p in site.glob("*.html")}
    ids = {
        name: {unquote(html.unescape(i)) for i in ID.findall(text)}
        for name, text in pages.items()
    }
    broken = []
    for name, text in pages.items():
        for link in LINK.findall(text):
            parts = urlsplit(html.unescape(link))
            if parts.scheme or link.startswith("//"):
                continue  # external (CDN scripts in the lesson pages)
            target = unquote(parts.path) or name
            if target not in pages:
                broken.append(f"{name} -> {link}")
            elif parts.fragment and unquote(parts.fragment) not in ids[target]:
                broken.append(f"{name} -> {link} (no such anchor)")
    assert not broken, broken
