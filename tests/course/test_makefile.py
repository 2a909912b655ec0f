"""The Makefile stops with a readable message when Python is too old."""

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_old_python_gets_a_readable_error(tmp_path):
    fake = tmp_path / "python3.9"
    fake.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = "--version" ]; then echo "Python 3.9.18"; exit 0; fi\n'
        "exit 1\n"  # the version check `python -c ...` fails, as it would on 3.9
    )
    fake.chmod(0o755)
    done = subprocess.run(["make", "--no-print-directory", "install", f"PYTHON={fake}"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "needs Python 3.11 or newer" in done.stdout and "Python 3.9.18" in done.stdout
