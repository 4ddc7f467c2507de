"""The audit's charts in the NHS house style: activity, funnel plots and XmR (SPC) charts.

Modules: ``house_style`` (colours, sizes, text from data drawn as written), ``activity`` (volumes,
waterfall, repeat intervals), ``funnel``, ``spc``.

May import: the metrics layer (the results they draw) and below.
"""
