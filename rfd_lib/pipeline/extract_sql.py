"""``extract_sql``: a T-SQL query that pulls from SUS+ only the spells and columns the audit needs.

A national platform (NCDR, UDAL) holds every admitted-patient-care spell; the audit uses only the
spells its pre-filter keeps (:func:`rfd_lib.metrics.activity.audit_prefilter`, derived from the
rule and the code lists: a provable superset of the spells it counts or uses) and only the
columns of the column profile. The query selects those, optionally within a range of the date
that puts a spell in a quarter, so an analyst pulls megabytes instead of gigabytes. It is built
with sqlglot (never glued from strings) and is one SELECT, so ``rfd-audit classify URL --query
FILE`` accepts it as it is.

What changes when the audit reads such a pull rather than the whole extract: the spells it counts
and uses are the same, labelled the same; but the look-backs start at the earliest admission in
what was pulled (never earlier than in the whole extract, so a look-back is at most more often
"not assessable"), a provider with no such spell has no report, and the quarantine and
data-quality findings cover the pulled spells only.
"""

from __future__ import annotations

import datetime as dt
import os

from sqlglot import exp

from rfd_lib import config
from rfd_lib.engine.prefilter import Prefilter
from rfd_lib.engine.rule import Rule, load_rule
from rfd_lib.errors import ExtractError
from rfd_lib.extracts.profiles import load_profile
from rfd_lib.metrics.activity import audit_prefilter
from rfd_lib.metrics.code_lists import load_code_lists
from rfd_lib.metrics.expectations import load_expectations
from rfd_lib.version import __version__

# The APCS table the sus_apcs profile's own comment names; every platform names its copy its own
# way, so an analyst gives theirs with ``table`` (``--from``).
DEFAULT_TABLE = "APCS_Core_Daily"


def extract_sql(
    *,
    profile: str | os.PathLike[str] = "sus_apcs",
    table: str = DEFAULT_TABLE,
    start: dt.date | None = None,
    end: dt.date | None = None,
    rule: Rule | str | os.PathLike[str] = "2K_RFD_back",
    code_lists: str | os.PathLike[str] = config.CODE_LISTS,
    expectations: str | os.PathLike[str] = config.EXPECTATIONS,
) -> str:
    """Return a T-SQL SELECT of the spells in ``table`` the audit's pre-filter keeps, in the profile's names.

    ``profile`` is a column profile of spells (``sus_apcs``: NCDR / UDAL names); ``table`` the
    table or view, optionally ``database.schema.table``. ``start`` and ``end`` (both optional,
    both included) bound the period date (``period_date`` in the expectations: the discharge
    date by default), compared as dates whatever time of day the column holds; a spell without
    that date is in no quarter and is not selected when either is given. The text starts with
    ``--`` comments saying what it selects. Raises :class:`~rfd_lib.errors.ExtractError` (one
    line) for a profile of episodes or a range that ends before it starts, and the loaders'
    errors for a rule, profile or parameter file that cannot be read.
    """
    compiled = load_rule(rule)
    chosen = load_profile(profile)
    if chosen.episodes is not None:
        raise ExtractError(
            f"column profile {chosen.name!r} reads episodes, which become spells only when read: "
            "a query cannot pre-filter them spell by spell",
            hint="use a profile of spells (sus_apcs); for HES, read the episodes with rfd-audit classify",
        )
    if start is not None and end is not None and end < start:
        raise ExtractError(f"the date range ends ({end}) before it starts ({start})")
    prefilter = audit_prefilter(compiled, load_code_lists(code_lists))
    # Only the period date is read: it does not depend on the rule, so no check against it.
    period = load_expectations(expectations).period_date
    names = chosen.columns
    try:
        source = exp.to_table(table, dialect="tsql")
    except Exception as error:  # sqlglot raises several kinds for a name it cannot read
        raise ExtractError(
            f"cannot read {table!r} as a table name", hint="e.g. Database.dbo.Table"
        ) from error
    conditions = [condition for condition in [prefilter.where(names)] if condition is not None]
    date_column = exp.column(names[period], quoted=True)
    if start is not None:
        conditions.append(exp.GTE(this=date_column.copy(), expression=_date(start)))
    if end is not None:
        # The day after, exclusive: a datetime column's times on the last day are inside.
        conditions.append(exp.LT(this=date_column.copy(), expression=_date(end + dt.timedelta(days=1))))
    query = exp.select(*(exp.column(name, quoted=True) for name in names.values())).from_(source)
    if conditions:
        query = query.where(exp.and_(*(exp.paren(c) if isinstance(c, exp.Or) else c for c in conditions)))
    header = _header(compiled, chosen.name, prefilter, names, period, start, end)
    return header + query.sql(dialect="tsql", pretty=True) + "\n"


def _date(day: dt.date) -> exp.Expression:
    return exp.cast(exp.Literal.string(day.isoformat()), exp.DataType.build("DATE"))


def _header(
    rule: Rule,
    profile: str,
    prefilter: Prefilter,
    names: dict[str, str],
    period: str,
    start: dt.date | None,
    end: dt.date | None,
) -> str:
    """Return the ``--`` lines that say what the query selects and why, in the extract's names."""
    date_column = names[period]
    bounds = (
        f"from {start or 'the first'} to {end or 'the last'} {date_column}" if start or end else "of any date"
    )
    if prefilter.keep_all:
        kept = [f"Selects every spell {bounds}: {prefilter.why}."]
    else:
        kept = [
            f"Selects the spells {bounds} whose procedure codes (upper-cased, dots removed) hold",
            "these codes, in the combinations of the WHERE clause:",
            *(
                f"  {names.get(column, column)}: {', '.join(stems)}"
                for column, stems in prefilter.stems.items()
            ),
            "a superset of the spells the audit counts or uses.",
        ]
    lines = [
        f"rfd-audit extract-sql (rfd_lib {__version__}), rule {rule.name}, column profile {profile}.",
        *kept,
        "The look-backs (a block before an RFD, a repeat) reach months before the first quarter audited:",
        "start the range that much earlier. Read the result with rfd-audit classify or rfd-audit run.",
    ]
    return "".join(f"-- {line}\n" for line in lines)
