"""The audit's charts in the NHS house style: activity, funnel plots and XmR (SPC) charts.

Modules: ``house_style`` (colours, sizes, text from data drawn as written), ``activity`` (volumes,
waterfall, repeat intervals), ``funnel``, ``spc``. Titles, captions, axis and legend labels are
sentences of ``params/wording.yaml`` (:func:`rfd_lib.wording.say`).

May import: the metrics layer (the results they draw) and below.
"""
