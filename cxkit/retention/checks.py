"""Input checks shared by the retention functions: customers frames, survival tables, groups."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from .._args import moment, observed_at_of, require_columns
from ..data import DataError, Journey, _examples

#: Reference level of a categorical covariate (hazard ratios are relative to it). Columns not
#: listed here use their most frequent level.
REFERENCE_LEVELS = {"acquisition_channel": "organic", "plan": "monthly"}


_DAY_NS = 86_400 * 10**9


_CORE = ("customer_id", "signup_at", "churned_at")


def _ns(series):
    """datetime64 values as int64 nanoseconds (NaT → min int)."""
    return series.astype("datetime64[ns]").to_numpy().astype("int64")


def _events_observed_at(events, observed_at, where):
    """``observed_at`` for a bare events table: given, or the one a loaded table carries."""
    observed = observed_at_of(events, observed_at, where)
    if observed is None:
        raise DataError(
            where,
            [
                {
                    "column": "observed_at",
                    "expected": "the moment the data "
                    "was extracted when a bare events table is given",
                }
            ],
            hint="pass the Journey instead, or observed_at=journey.observed_at",
        )
    return observed


def _validated_customers(frame, where):
    """``frame`` checked as a customers table (the loader's checks: ids present and unique,
    dates parseable, no missing signup, no churn before signup), with its dates parsed.

    The caller's frame is neither modified nor reordered: only ``signup_at`` and ``churned_at``
    are replaced by parsed copies when they were not datetimes already."""
    from ..data import _parse_timestamps, read_customers

    try:
        read_customers(frame)  # copies its input; raises on every problem it finds
    except DataError as err:
        raise DataError(
            f"{where}: customers {err.source}",
            err.problems,
            columns=err.columns,
            hint=err.hint or "fix these rows, or read the file with cxkit.read_customers",
        ) from None
    parsed = {
        col: _parse_timestamps(frame[col])[0]
        for col in ("signup_at", "churned_at")
        if col in frame.columns and frame[col].dtype != "datetime64[ns]"
    }
    return frame.assign(**parsed) if parsed else frame


def _customers_and_observed(data, observed_at, where):
    """(customers, observed_at) from a Journey or a customers DataFrame."""
    if isinstance(data, Journey):
        observed = data.observed_at if observed_at is None else observed_at
        return data.customers, moment(observed, "observed_at", where)
    if isinstance(data, pd.DataFrame):
        require_columns(
            data,
            ["customer_id", "signup_at"],
            where,
            hint="pass a Journey or a table from cxkit.read_customers",
        )
        observed = observed_at_of(data, observed_at, where)
        if observed is None:
            raise DataError(
                where,
                [
                    {
                        "column": "observed_at",
                        "expected": "the moment the data "
                        "was extracted; a customers table alone does not say it "
                        "(its last date is not the end of observation)",
                    }
                ],
                hint="pass the Journey (cxkit.read_journey) instead, or "
                "observed_at=journey.observed_at",
            )
        return _validated_customers(data, where), observed
    raise DataError(
        where,
        [
            {
                "column": "data",
                "expected": f"a Journey or a customers DataFrame, got {type(data).__name__}",
            }
        ],
    )


def _check_columns(table, columns, where, argument):
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise DataError(
            where,
            [
                {
                    "column": argument,
                    "expected": f"column '{c}' to exist in the table; it does not",
                }
                for c in missing
            ],
            columns=table.columns,
            hint="use one of the columns present",
        )


def _check_survival(table, where):
    """A survival table (or a Journey, turned into one) with sane durations and churn flags."""
    if isinstance(table, Journey):
        from .reduce import survival_table  # reduce imports these checks

        table = survival_table(table)
    if not isinstance(table, pd.DataFrame):
        raise DataError(
            where,
            [
                {
                    "column": "table",
                    "expected": "a survival table (cxkit.survival_table) or a Journey, "
                    f"got {type(table).__name__}",
                }
            ],
        )
    _check_columns(table, ["duration_days", "churned"], where, "table")
    if len(table) == 0:
        raise DataError(
            where, [{"column": None, "expected": "at least one customer; the table is empty"}]
        )
    problems = []
    col = table["duration_days"]
    if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
        days = col.to_numpy(float, na_value=np.nan)
        bad = ~np.isfinite(days) | (days < 0)
    else:  # text, timedeltas, booleans: not a number of days
        bad = np.ones(len(col), bool)
    if bad.any():
        problems.append(
            {
                "column": "duration_days",
                "expected": "a finite number of days, 0 or more, in every row",
                "rows": int(bad.sum()),
                "examples": _examples(table, bad, "duration_days"),
            }
        )
    churned = table["churned"]
    if isinstance(churned.dtype, pd.CategoricalDtype):
        churned = churned.astype(object)
    # True/False or 1/0 only (NaN and strings such as "yes"/"no" are refused, not guessed)
    bad = ~churned.isin([True, False]).to_numpy()
    if bad.any():
        problems.append(
            {
                "column": "churned",
                "expected": "True/False (or 1/0) in every row: did the customer churn",
                "rows": int(bad.sum()),
                "examples": _examples(table, bad, "churned"),
            }
        )
    if problems:
        raise DataError(
            where, problems, hint="build the table with cxkit.survival_table or activity_table"
        )
    return table


def _check_alpha(alpha, where):
    ok = isinstance(alpha, (int, float, np.floating)) and not isinstance(alpha, bool)
    if not (ok and 0 < alpha < 1):
        raise DataError(
            f"{where}(alpha=...)",
            [
                {
                    "column": "alpha",
                    "expected": "1 − confidence level, strictly between 0 and 1 (0.05 for "
                    f"95% intervals); got {alpha!r}",
                }
            ],
        )


def _one_column(by, where):
    """``by`` as one column name (a one-element list is accepted)."""
    if by is None or isinstance(by, str):
        return by
    if isinstance(by, (list, tuple, pd.Index)):
        if len(by) == 1:
            return by[0]
        raise DataError(
            f"{where}(by=...)",
            [
                {
                    "column": "by",
                    "expected": f"one column to split by; got {len(by)}: {list(by)}",
                }
            ],
            hint="combine them first, e.g. table.assign(group=table['plan'].astype(str) + ' / '"
            " + table['device'].astype(str)), then by='group'",
        )
    return by


def _as_list(value):
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _check_touchpoints(events, touchpoints, where):
    """The touchpoint names as a list, or a DataError naming those that are no event of the
    events table (a typo would otherwise mark every customer as gone), with the events that
    exist."""
    if touchpoints is None:
        return None
    names = _as_list(touchpoints)
    col = events["event"]
    present = (
        col.cat.categories[col.value_counts(sort=False).to_numpy() > 0]
        if isinstance(col.dtype, pd.CategoricalDtype)
        else pd.Index(pd.unique(col.dropna()))
    )
    present = pd.Index(present.astype(str))
    unknown = [n for n in names if str(n) not in present]
    if unknown:
        raise DataError(
            f"{where}(touchpoints=...)",
            [
                {
                    "column": "touchpoints",
                    "expected": "names of events in the events table; these occur nowhere",
                    "rows": len(unknown),
                    "examples": unknown,
                }
            ],
            columns=dict.fromkeys(sorted(present)[:20]),
            hint="check the spelling (event names are case-sensitive), or the data spec's "
            "[business] activity list",
        )
    return names


#: Most groups (levels of one column) a survival comparison or a Cox covariate takes: past it,
#: pairwise tests and one-hot designs grow quadratically (1,000 levels ran for 20+ minutes).
MAX_LEVELS = 100


def _check_levels(col, name, where, argument):
    """Refuse a column with more than :data:`MAX_LEVELS` distinct values (an id, a free-text
    field), naming the column, the count and a few values."""
    n = int(col.nunique(dropna=True))
    if n > MAX_LEVELS:
        raise DataError(
            f"{where}({argument}=...)",
            [
                {
                    "column": name,
                    "expected": f"at most {MAX_LEVELS} groups to compare; it has {n:,} "
                    "distinct values",
                    "rows": int(col.notna().sum()),
                    "examples": [str(v) for v in pd.unique(col.dropna())[:5]],
                }
            ],
            hint="group rare values together (e.g. the 10 largest and 'other'), or choose a "
            "coarser column",
        )


def _groups(table, by, where):
    """[(level, sub-table)] in the column's order; rows with no group are counted and warned."""
    if by is None:
        return [(None, table)]
    _check_columns(table, [by], where, "by")
    col = table[by]
    _check_levels(col, by, where, "by")
    missing = col.isna()
    if missing.all():
        raise DataError(
            f"{where}(by=...)",
            [
                {
                    "column": by,
                    "expected": "at least one customer with a value to group by; every "
                    "value is missing",
                    "rows": int(missing.sum()),
                }
            ],
            hint="choose a column that is filled in",
        )
    if missing.any():
        warnings.warn(
            f"{where}: {int(missing.sum())} customer(s) with no value in '{by}' are left out",
            stacklevel=3,
        )
    if isinstance(col.dtype, pd.CategoricalDtype):
        levels = [lv for lv in col.cat.categories if (col == lv).any()]
    else:
        levels = sorted(col.dropna().unique(), key=str)
    return [(lv, table[col == lv]) for lv in levels]


def _reference_level(name, series):
    levels = series.dropna()
    preferred = REFERENCE_LEVELS.get(name)
    if preferred is not None and (levels == preferred).any():
        return preferred
    counts = levels.value_counts(sort=False)
    return counts.index[int(np.argmax(counts.to_numpy()))]


def _zgrid(alpha):
    from scipy.stats import norm

    return float(norm.ppf(1 - alpha / 2))
