"""`make lab` (the README's first command) serves JupyterLab on the course's notebooks."""

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_make_lab_serves_jupyterlab():
    port = free_port()
    args = f"--no-browser --ip 127.0.0.1 --port {port} --IdentityProvider.token=course-test"
    lab = subprocess.Popen(
        ["make", "--no-print-directory", "lab", f"LAB_ARGS={args}"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        url = f"http://127.0.0.1:{port}/lab?token=course-test"
        deadline, page = time.monotonic() + 90, None
        while page is None and time.monotonic() < deadline:
            assert lab.poll() is None, "make lab exited early"
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    page = (response.status, response.read().decode())
            except OSError:
                time.sleep(1)
        assert page is not None, "JupyterLab did not answer within 90 s"
        status, body = page
        assert status == 200 and "JupyterLab" in body
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/contents?token=course-test") as r:
            served = {item["name"] for item in json.load(r)["content"]}
        lessons = {p.name for p in (ROOT / "notebooks").glob("*.ipynb")}
        assert lessons <= served, "the lab's root is the notebooks folder"
    finally:
        os.killpg(lab.pid, signal.SIGTERM)
        try:
            lab.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(lab.pid, signal.SIGKILL)
