"""`make html`'s site: Sphinx with MyST-NB and the book theme, opened in headless Chromium.

The site is built once, as `make html` builds it (warnings are errors), into a temporary folder.
Without a browser the tests check the HTML Sphinx wrote: the index is the README, every lesson
has its page with navigation, figures and the run-it-yourself note, the API reference has a page
per module, and no internal link is dead. Headless Chromium (Debian's ``chromium``) then opens
every page through the DevTools protocol and finds no console error, no broken internal link and
no missing image, and the search page finds the lesson for "canary".
"""

import html
import importlib
import json
import pkgutil
import re
import shutil
import subprocess
import sys
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

import rl_best_practices

ROOT = Path(__file__).resolve().parents[2]
LESSONS = sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb"))
LINK = re.compile(r"""(?:href|src)\s*=\s*["']([^"']+)["']""")
ID = re.compile(r"""\b(?:id|name)\s*=\s*["']([^"']+)["']""")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
NO_CHROMIUM = ("headless Chromium is not installed: `apt-get install chromium` (.ci/run does it "
               "when it runs as root)")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    build = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
             "-d", str(out / "doctrees"), str(ROOT / "docs"), str(out / "html")]
    done = subprocess.run(build, capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-5000:]
    return out / "html"


def pages(site: Path) -> dict[str, str]:
    """Every page of the site by its path (the theme's template fragments in _static excluded)."""
    return {p.relative_to(site).as_posix(): p.read_text() for p in site.rglob("*.html")
            if p.relative_to(site).parts[0] != "_static"}


def text(page: str) -> str:
    """What a reader sees of ``page``: tags dropped, entities decoded, spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", page)).split())


def test_the_index_is_the_readme(site):
    index = (site / "index.html").read_text()
    assert "Course map" in index and "Reward engineering" in index
    readme_title = (ROOT / "README.md").read_text().splitlines()[0].removeprefix("# ")
    assert f"<h1>{readme_title}" in index
    links = set(LINK.findall(index))
    expected = {f"lessons/{lesson}.html" for lesson in LESSONS} | {"api.html", "benchmarks.html"}
    assert expected <= links


@pytest.mark.parametrize("lesson", LESSONS)
def test_every_lesson_has_a_page_with_navigation_figures_and_the_run_note(site, lesson):
    page = (site / "lessons" / f"{lesson}.html").read_text()
    assert "Run this lesson yourself" in text(page)
    note = text(page).split("Run this lesson yourself", 1)[1][:600]
    assert "make lab" in note and "conda env create -f environment.yml" in note
    assert f"open {lesson}.ipynb" in note
    minutes = re.search(r"runs in about ([\d.]+) minutes on two CPU cores", note)
    course_map_row = next(line for line in (ROOT / "README.md").read_text().splitlines()
                          if line.startswith(f"| {lesson.split('_')[0]} |"))
    assert minutes and f"| {minutes[1]} |" in course_map_row  # the README's figure
    assert 'class="prev-next-area"' in page and "bd-toc" in page  # previous/next, page contents
    # the notebook as the build read it (the page's download button serves this copy)
    notebook = json.loads((site / "_sources" / "lessons" / f"{lesson}.ipynb").read_text())
    stored = sum("image/png" in output.get("data", {})
                 for cell in notebook["cells"] for output in cell.get("outputs", []))
    figures = re.findall(r'<img [^>]*src="\.\./_images/[^"]+\.png"', page)
    assert len(figures) == stored, f"{lesson}: {len(figures)} of its {stored} figures shown"
    assert "search.html" in page
    # the lessons in the left-hand navigation, this one marked as the current page
    assert all(f"{other}.html" in page for other in LESSONS if other != lesson)
    assert re.search(r'<li class="toctree-l1 current active"><a class="current reference internal"'
                     r' href="#">', page)


def test_the_api_reference_has_a_page_per_module_in_the_package_layout(site):
    modules = [m.name for m in pkgutil.walk_packages(rl_best_practices.__path__,
                                                     "rl_best_practices.")
               if not any(part.startswith("_") for part in m.name.split("."))]
    assert "rl_best_practices.rllib.tune" in modules and "rl_best_practices.safety.layer" in modules
    missing = [m for m in ["rl_best_practices", *modules]
               if not (site / "reference" / f"{m}.html").is_file()]
    assert not missing, missing


@pytest.mark.parametrize("name", [
    "rewards.shaper.RewardShaper", "safety.layer.SafetyLayer", "drift.detector."
    "DistributionShiftDetector", "experiment.config.ExperimentConfig",
    "feedback.store.HumanFeedbackCollector", "checklist.gate.ProductionChecklist",
    "envs.MarketEnv", "rllib.tune.train_seeds", "evaluation.seed_interval",
])
def test_the_api_reference_documents_the_lesson_names_from_their_docstrings(site, name):
    module, _, obj = name.rpartition(".")
    page = (site / "reference" / f"rl_best_practices.{module}.html").read_text()
    assert f'id="rl_best_practices.{name}"' in page
    doc = getattr(importlib.import_module(f"rl_best_practices.{module}"), obj).__doc__
    opening = " ".join(re.findall(r"\w+", doc.split("\n")[0])[:5])
    assert opening in " ".join(re.findall(r"\w+", text(page)))  # the docstring, rendered


def test_the_benchmarks_page_is_the_results_table(site):
    page = html.unescape((site / "benchmarks.html").read_text())
    rows = [line for line in (ROOT / "benchmarks" / "RESULTS.md").read_text().splitlines()
            if line.startswith("| ") and not line.startswith("| figure")]
    assert rows and page.count("<tr") >= len(rows)
    assert rows[0].split("|")[1].strip().split(" (")[0] in page


def test_every_internal_link_resolves(site):
    texts = pages(site)
    ids = {name: {unquote(html.unescape(i)) for i in ID.findall(source)}
           for name, source in texts.items()}
    broken = []
    for name, source in texts.items():
        for link in LINK.findall(source):
            parts = urlsplit(html.unescape(link))
            if parts.scheme or link.startswith("//"):
                continue  # off the site
            key = name
            if parts.path:
                file = ((site / name).parent / unquote(parts.path)).resolve()
                if not file.is_file():
                    broken.append(f"{name} -> {link}")
                    continue
                key = file.relative_to(site.resolve()).as_posix()
            if parts.fragment and key in ids and unquote(parts.fragment) not in ids[key]:
                broken.append(f"{name} -> {link} (no such anchor)")
    assert not broken, broken


# ----------------------------------------------------------------------------------------------
# In a real browser: headless Chromium driven over the DevTools protocol.

PAGE_REPORT = """(async () => {
  const broken = [];
  for (const img of document.images) {
    img.loading = "eager";
    try { await img.decode(); } catch (e) { broken.push(img.getAttribute("src")); }
  }
  const urls = [...document.querySelectorAll("a[href], link[href]")].map(e => e.href)
    .concat([...document.querySelectorAll("script[src], img[src]")].map(e => e.src));
  const ids = [...document.querySelectorAll("[id]")].map(e => e.id)
    .concat([...document.querySelectorAll("a[name]")].map(e => e.name));
  return {broken, urls, ids};
})()"""


class Browser:
    """Just enough of the DevTools protocol: navigate, evaluate, collect console errors."""

    def __init__(self, executable: str, profile: Path):
        websocket = pytest.importorskip("websocket")
        self.process = subprocess.Popen(
            [executable, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--no-default-browser-check", "--disable-extensions", "--disable-sync",
             "--disable-background-networking", "--disable-component-update",
             "--disable-dev-shm-usage", "--remote-debugging-port=0",
             f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            self.connect(websocket, profile)
        except BaseException:
            self.process.kill()
            self.process.wait(timeout=30)
            raise

    def connect(self, websocket, profile: Path) -> None:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 60
        while not (port_file.is_file() and len(port_file.read_text().split()) == 2):
            assert self.process.poll() is None, "chromium exited at start-up"
            assert time.monotonic() < deadline, "chromium did not open its DevTools port"
            time.sleep(0.1)
        port, path = port_file.read_text().split()
        self.next_id, self.events = 0, []
        self.ws = websocket.create_connection(f"ws://127.0.0.1:{port}{path}",
                                              suppress_origin=True, timeout=60)
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.ws.close()
        self.ws = websocket.create_connection(f"ws://127.0.0.1:{port}/devtools/page/{target}",
                                              suppress_origin=True, timeout=60)
        for domain in ["Page", "Runtime", "Log"]:
            self.call(f"{domain}.enable")

    def call(self, method: str, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.next_id:
                assert "error" not in message, (method, message["error"])
                return message["result"]
            self.events.append(message)

    def wait_for(self, event: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not any(e.get("method") == event for e in self.events):
            assert time.monotonic() < deadline, f"no {event} within {timeout} s"
            self.events.append(json.loads(self.ws.recv()))

    def evaluate(self, expression: str):
        result = self.call("Runtime.evaluate", expression=expression, awaitPromise=True,
                           returnByValue=True)
        assert "exceptionDetails" not in result, result["exceptionDetails"]
        return result["result"].get("value")

    def open(self, url: str) -> None:
        self.events = []
        navigated = self.call("Page.navigate", url=url)
        assert "errorText" not in navigated, (url, navigated["errorText"])
        self.wait_for("Page.loadEventFired")
        self.evaluate("new Promise(done => setTimeout(done, 50))")  # let late scripts run

    def console_errors(self) -> list[str]:
        errors = []
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.exceptionThrown":
                details = params["exceptionDetails"]
                errors.append(details.get("exception", {}).get("description") or details["text"])
            elif method == "Runtime.consoleAPICalled" and params["type"] in {"error", "assert"}:
                errors.append(" ".join(str(a.get("value", a.get("description")))
                                       for a in params["args"]))
            elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
                entry = params["entry"]
                errors.append(f"{entry['text']} {entry.get('url', '')}".strip())
        return errors

    def close(self) -> None:
        self.ws.close()
        self.process.terminate()
        self.process.wait(timeout=30)


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def browser(site, tmp_path_factory):
    if CHROMIUM is None:
        pytest.skip(NO_CHROMIUM)
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        chromium = Browser(CHROMIUM, tmp_path_factory.mktemp("chromium-profile"))
        try:
            yield chromium, f"http://127.0.0.1:{server.server_address[1]}/"
        finally:
            chromium.close()
    finally:
        server.shutdown()
        server.server_close()


def local_target(site: Path, base: str, url: str) -> tuple[Path, str] | None:
    """The file a same-site URL names and its fragment; None for a link off the site."""
    if not url.startswith(base):
        return None
    parts = urlsplit(url)
    path = unquote(parts.path).lstrip("/")
    file = site / path
    if path == "" or path.endswith("/"):
        file = file / "index.html"
    return file, unquote(parts.fragment)


def test_chromium_opens_every_page_without_errors_dead_links_or_missing_images(site, browser):
    chromium, base = browser
    ids, links, problems = {}, [], []
    for name in sorted(pages(site)):
        chromium.open(base + name)
        problems += [f"{name}: console error: {e}" for e in chromium.console_errors()]
        report = chromium.evaluate(PAGE_REPORT)
        problems += [f"{name}: missing image {src}" for src in report["broken"]]
        ids[name] = set(report["ids"])
        links += [(name, url) for url in report["urls"]]
    assert len(ids) >= len(LESSONS) + 4
    for name, url in links:
        target = local_target(site, base, url)
        if target is None:
            continue  # outside the site
        file, fragment = target
        if not file.is_file():
            problems.append(f"{name}: dead link {url}")
        elif fragment and file.suffix == ".html":
            if fragment not in ids[file.relative_to(site).as_posix()]:
                problems.append(f"{name}: no anchor for {url}")
    assert not problems, "\n".join(problems[:50])


def test_chromium_search_finds_the_lesson_for_canary(browser):
    chromium, base = browser
    chromium.open(base + "search.html?q=canary")
    found, deadline = [], time.monotonic() + 30
    while not found and time.monotonic() < deadline:
        found = chromium.evaluate(
            '[...document.querySelectorAll("#search-results a")].map(a => a.href)')
        time.sleep(0.2)
    assert any("/lessons/06_production_checklist.html" in url for url in found), found
    assert not chromium.console_errors()
