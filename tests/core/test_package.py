"""The package's architecture: lesson names, module contracts, Ray isolation, one error base."""

import ast
import builtins
import importlib
import inspect
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import rl_best_practices
from rl_best_practices import errors

PACKAGE_DIR = Path(rl_best_practices.__file__).parent
MODULES = sorted(
    info.name for info in pkgutil.walk_packages([str(PACKAGE_DIR)], "rl_best_practices.")
)
RAY_FREE = [m for m in MODULES if not m.startswith("rl_best_practices.rllib")]
SOURCES = sorted(PACKAGE_DIR.rglob("*.py"))
MAX_MODULE_LINES = 450  # one idea, read in one sitting

LESSON_NAMES = {
    "RewardShaper": "rewards",
    "SafetyLayer": "safety",
    "DistributionShiftDetector": "drift",
    "ExperimentConfig": "experiment",
    "HumanFeedbackCollector": "feedback",
    "ProductionChecklist": "checklist",
}


@pytest.mark.parametrize("name, module", LESSON_NAMES.items())
def test_lesson_name_is_exported(name, module):
    exported = getattr(rl_best_practices, name)
    assert exported is getattr(importlib.import_module(f"rl_best_practices.{module}"), name)
    assert name in rl_best_practices.__all__


def test_unknown_name_raises_attribute_error():
    with pytest.raises(AttributeError, match="NoSuchThing"):
        rl_best_practices.NoSuchThing  # noqa: B018


@pytest.mark.parametrize("module", MODULES)
def test_module_documents_and_lists_its_public_names(module):
    mod = importlib.import_module(module)
    assert mod.__doc__, f"{module} has no docstring"
    if module.rsplit(".", 1)[-1].startswith("_"):
        return
    assert mod.__all__, f"{module} has no __all__"
    for name in mod.__all__:
        assert hasattr(mod, name), f"{module}.__all__ names missing {name}"


@pytest.mark.parametrize("module", RAY_FREE)
def test_module_imports_without_ray(module):
    """A fresh interpreter imports the module and Ray stays unimported."""
    code = f"import sys, {module}; sys.exit('ray' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, f"importing {module} imported Ray\n{result.stderr}"


def test_ray_free_module_list_is_not_empty_and_excludes_integration():
    """Guards the test above: it must see the lesson modules, and only rllib may import Ray."""
    assert "rl_best_practices.rewards" in RAY_FREE and "rl_best_practices.envs" in RAY_FREE
    assert not [m for m in RAY_FREE if "rllib" in m]


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE_DIR)))
def test_module_is_concept_sized(path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_MODULE_LINES, f"{path.name} has {lines} lines"


def test_every_exception_class_derives_from_error():
    found = []
    for module in MODULES:
        for _, cls in inspect.getmembers(importlib.import_module(module), inspect.isclass):
            if cls.__module__.startswith("rl_best_practices") and issubclass(cls, BaseException):
                if issubclass(cls, Warning):
                    continue
                found.append(cls)
                assert issubclass(cls, errors.Error), f"{cls.__qualname__} is not an errors.Error"
    assert errors.InvalidValueError in found and errors.NoSafeActionError in found


BUILTIN_EXCEPTIONS = {
    name for name, obj in vars(builtins).items()
    if isinstance(obj, type) and issubclass(obj, BaseException)
}


def _builtin_raises(tree: ast.AST) -> list[tuple[int, str]]:
    bad = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Raise) and node.exc is not None:
            target = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            if isinstance(target, ast.Name) and target.id in BUILTIN_EXCEPTIONS:
                bad.append((node.lineno, target.id))
    return bad


def test_builtin_raise_detector_sees_a_builtin_raise():
    assert _builtin_raises(ast.parse("raise ValueError('x')")) == [(1, "ValueError")]
    assert _builtin_raises(ast.parse("raise InvalidValueError('x')")) == []


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE_DIR)))
def test_package_raises_only_its_own_exceptions(path):
    """Every raise uses a class from errors.py, so ``except rl_best_practices.errors.Error``
    catches whatever the package refuses (``AttributeError`` of a module ``__getattr__`` aside)."""
    bad = [
        (line, name) for line, name in _builtin_raises(ast.parse(path.read_text("utf-8")))
        if name != "AttributeError"
    ]
    assert not bad, f"{path.name} raises builtin exceptions at {bad}"
