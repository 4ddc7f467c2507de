"""The reports: the sections notebooks call, HTML and PDF rendering, the run's index page.

Modules: ``saved_audit`` (the :class:`AuditRun` each notebook reads), ``pages`` (the provider's
sections), ``summary_page`` (the summary's sections), ``tables`` (HTML tables and headline boxes),
``notebook_runner`` (papermill in this interpreter's kernel), ``render`` (nbconvert HTML through the
NHS template in ``templates/``), ``pdf`` (A4 PDFs from headless Chromium), ``index`` (``index.html``),
``table_files`` (the run's table files, each table's rows from ``tidy_rows``). The sentences the
pages and the index print are in ``params/wording.yaml`` (:func:`rfd_lib.wording.say`).

May import: the charts layer and below.
"""

from rfd_lib.lazy import lazy_names

_PUBLIC = {
    "AuditRun": ".saved_audit",
    "ProviderPage": ".pages",
    "SummaryPage": ".summary_page",
}
__getattr__, __dir__ = lazy_names(__name__, _PUBLIC)
__all__ = sorted(_PUBLIC)
