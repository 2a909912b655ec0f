"""The lesson's public names are importable from the package, each from its lesson's module."""

import importlib

import pytest

import rl_best_practices

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


def test_every_module_lists_its_public_names():
    for module in ["envs", "rllib", "storage", "circuit", *LESSON_NAMES.values(),
                   "reward_model", "deployment"]:
        mod = importlib.import_module(f"rl_best_practices.{module}")
        assert mod.__doc__ and mod.__all__
        for name in mod.__all__:
            assert hasattr(mod, name), f"{module}.__all__ names missing {name}"
