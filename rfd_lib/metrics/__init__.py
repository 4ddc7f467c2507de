"""The audit's figures: activity, volumes, checks, rates, funnel and SPC, with disclosure control.

Modules: ``periods`` (financial quarters), ``code_lists`` and ``expectations`` (the params they are
checked against), ``activity`` and ``pathways`` (what each spell is, and each patient's path),
``volumes`` and ``checks`` (counts and restricted-use checks), ``disclosure`` and ``publish``
(suppression and rounding before anything is derived), ``rates``, ``funnel``, ``spc`` and
``spc_disclosure`` (XmR charts from the true counts, as they may be circulated), and ``audit``
(:func:`audit_metrics`, every published figure in one call).

May import: the engine, the extracts layer and the base modules.
"""

from rfd_lib.lazy import lazy_names

_PUBLIC = {
    "AuditMetrics": ".audit",
    "audit_metrics": ".audit",
}
__getattr__, __dir__ = lazy_names(__name__, _PUBLIC)
__all__ = sorted(_PUBLIC)
