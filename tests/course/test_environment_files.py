"""pyproject.toml, constraints.txt and environment.yml pin the same packages.

They pin them at the same versions.
"""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^\s*-?\s*([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?==([^\s#;]+)")


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(lines) -> dict[str, str]:
    found = {}
    for line in lines:
        match = PIN.match(line)
        if match:
            found[normalise(match.group(1))] = match.group(2)
    return found


def pyproject_pins() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = project["dependencies"] + [
        r for group in project["optional-dependencies"].values() for r in group
    ]
    assert all("==" in r for r in requirements), "every course dependency is pinned exactly"
    return pins(requirements)


def test_the_three_files_name_the_same_packages_at_the_same_versions():
    expected = pyproject_pins()
    assert pins((ROOT / "constraints.txt").read_text().splitlines()) == expected
    assert pins((ROOT / "environment.yml").read_text().splitlines()) == expected


def test_the_installed_torch_is_the_cpu_build_the_pin_asks_for():
    """A looser torch requirement pulls a multi-gigabyte CUDA build on these machines."""
    import torch

    assert torch.version.cuda is None, f"torch {torch.__version__} was built for CUDA"


def test_gymnasium_is_pinned_as_ray_pins_it():
    from importlib.metadata import requires

    ray_pin = [r for r in requires("ray") if r.startswith("gymnasium") and "rllib" in r]
    assert ray_pin, "ray[rllib] declares a gymnasium requirement"
    assert ray_pin[0].split(";")[0].strip() == f"gymnasium=={pyproject_pins()['gymnasium']}"


def test_installed_versions_match_the_pins():
    from importlib.metadata import version

    for name, pinned in pyproject_pins().items():
        assert version(name).split("+")[0] == pinned, name
