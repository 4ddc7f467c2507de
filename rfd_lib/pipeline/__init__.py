"""The quarterly run: from a parameter file to every report, safely.

Modules: ``params`` (the run's parameter file, checked), ``provenance`` (what produced a report),
``output_folder`` (the run's folder: refused unless it is the run's, locked, safe file names),
``workers`` (report worker processes that die with the run), ``runner`` (:func:`run_audit`),
``demo`` (the audit a notebook opened by hand shows).

May import: every layer below, and ``rfd_lib.synthetic`` (the demo).
"""

from rfd_lib.lazy import lazy_names

_PUBLIC = {
    "run_audit": ".runner",
    "RunResult": ".runner",
    "load_params": ".params",
    "RunParams": ".params",
    "load_run": ".demo",
    "demo_run": ".demo",
}
__getattr__, __dir__ = lazy_names(__name__, _PUBLIC)
__all__ = sorted(_PUBLIC)
