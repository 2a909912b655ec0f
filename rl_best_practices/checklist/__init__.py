"""An evidence-backed production gate for an RL policy (lesson 06).

:class:`ProductionChecklist` keeps the lesson's five categories (training, evaluation, safety,
monitoring, deployment) and its method names, with the defects fixed:

* only real items count: an unknown category or item raises :class:`UnknownItemError`, which
  lists the valid names, and changes nothing;
* every completed item carries :class:`Evidence`: a manual mark records who, when and a note; an
  automated check is a callable returning ``(passed, detail)`` that is run on demand, and a
  failing run overrides a manual mark;
* evidence names the model version and config hash it was produced for and goes stale when
  either changes; readiness re-runs every registered check; one check counts for one item;
* a score in the style of Google's ML Test Score (Breck et al., 2017): a manually verified item
  earns 0.5, an item verified by a passing automated check earns 1, and the final score is the
  *minimum* over categories, also reported by the paper's four sections with its bands;
* the evidence is saved and loaded as JSON and rendered as a text or Markdown report.

The parts:

* :mod:`~rl_best_practices.checklist.items`: :data:`CHECKLIST` (the items) and
  :class:`Evidence` (what vouches for one, and its points);
* :mod:`~rl_best_practices.checklist.gate`: :class:`ProductionChecklist` (recording evidence,
  running checks, status, score, reports, save and load);
* :mod:`~rl_best_practices.checklist.checks`: checks that measure the real system, such as
  :func:`latency_check` (p50 and p99 of the whole decision path).

>>> now = [100.0]
>>> gate = ProductionChecklist(clock=lambda: now[0])
>>> gate.mark_complete("training", "Experiment config saved and versioned", who="ana", note="run 7")
>>> gate.register_check("evaluation", "Latency within budget", lambda: (True, "p99 2 ms <= 10 ms"))
>>> gate.run_checks()["evaluation"]["Latency within budget"].passed
True
>>> gate.get_status()["training"]["completed"], gate.is_ready_for_production()
(1, False)
>>> gate.mark_complete("training", "Made-up item")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
rl_best_practices.errors.UnknownItemError: unknown item 'Made-up item' in category 'training'; ...
"""

from rl_best_practices.checklist.checks import latency_check
from rl_best_practices.checklist.gate import Check, ProductionChecklist
from rl_best_practices.checklist.items import BANDS, CHECKLIST, SECTIONS, Evidence, band
from rl_best_practices.errors import UnknownItemError

__all__ = [
    "BANDS",
    "CHECKLIST",
    "SECTIONS",
    "Check",
    "Evidence",
    "ProductionChecklist",
    "UnknownItemError",
    "band",
    "latency_check",
]
