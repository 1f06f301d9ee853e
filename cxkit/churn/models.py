"""Churn models: logistic regression and gradient boosting compared out of time, with bootstrap CIs."""

from __future__ import annotations

import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .._args import duration, infinite_values, jsonable
from ..data import DataError
from .reduce import _DAY, _bad


@dataclass(repr=False)
class ModelComparison:
    """Result of :func:`compare_models`: the table, held-out predictions and the chosen model.

    Attributes
    ----------
    table : DataFrame
        One row per model (index ``model``): held-out metrics with 95% bootstrap CIs.
    best_ : str
        The chosen model: the simpler logistic regression, unless gradient boosting is better
        on the ``select`` metric (held-out log loss by default) with a paired bootstrap
        interval of the difference that excludes 0.
    differences_ : DataFrame
        Paired bootstrap differences, gradient boosting − logistic regression, on the same
        resampled customers: one row per metric with ``difference``, ``ci_low``, ``ci_high``,
        ``favours`` (the model the point estimate favours) and ``clear`` (the interval excludes
        0). Empty without bootstrap replicates.
    model_ : sklearn Pipeline
        The chosen model refitted on every labelled row; ready for :func:`score`.
    predictions_ : DataFrame
        Held-out rows: ``churned`` (0/1), ``fold``, ``group`` and one probability column per
        model.
    folds_ : list of dict
        Per split: ``train`` and ``test`` row positions, ``cutoff`` (out of time) and the
        fitted pipelines (``models``).
    """

    table: pd.DataFrame
    best_: str
    model_: object
    predictions_: pd.DataFrame
    folds_: list
    X_: pd.DataFrame
    y_: pd.Series
    evaluation_: str
    features_: list
    family_: dict
    reference_: dict
    spec_: dict | None = None
    notes_: dict = field(default_factory=dict)
    differences_: pd.DataFrame = field(default_factory=pd.DataFrame)

    def __repr__(self):
        cols = ["roc_auc", "pr_auc", "base_rate", "brier", "lift_at_10pct"]
        return (
            f"ModelComparison({self.evaluation_}, chosen={self.best_!r}, "
            f"n={self.notes_.get('rows_evaluated')})\n" + self.table[cols].round(3).to_string()
        )

    def _repr_html_(self):
        return self.table._repr_html_()

    def __getitem__(self, key):
        return self.table[key]

    def predict_proba(self, X):
        """Churn probability (0–1) of new rows of a feature table like the one fitted on.

        ``X`` needs the feature columns the model was fitted with (others, such as the target
        or an id, are ignored); text columns are read with the fitted categories, and a level
        the model never saw counts as missing (warned, with how many rows). For a journey use
        :func:`cxkit.score`, which rebuilds the features at a date.

        Returns
        -------
        Series
            ``churn_probability`` indexed like ``X``.

        Examples
        --------
        >>> import pandas as pd
        >>> import cxkit
        >>> t = pd.DataFrame({"calls": [0, 1, 2, 5, 0, 3] * 20,
        ...                   "churned": [0, 0, 1, 1, 0, 1] * 20})
        >>> res = cxkit.compare_models(t, "churned", n_boot=0, n_splits=2)
        >>> res.predict_proba(pd.DataFrame({"calls": [0, 5]})).between(0, 1).all()
        np.True_
        """
        source = "ModelComparison.predict_proba()"
        if not isinstance(X, pd.DataFrame):
            raise _bad(
                source, "X", "a DataFrame with the model's feature columns", [type(X).__name__]
            )
        missing = [c for c in self.features_ if c not in X.columns]
        if missing:
            raise DataError(
                source,
                [
                    {
                        "column": c,
                        "expected": "a feature column the model was fitted with",
                    }
                    for c in missing
                ],
                columns=X.columns,
            )
        rows, unseen = {}, {}
        for c in self.features_:
            train, s = self.X_[c], X[c]
            if isinstance(train.dtype, pd.CategoricalDtype):
                text = s.map(str, na_action="ignore").astype(object)
                cat = pd.Categorical(text, categories=train.cat.categories)
                new = pd.isna(cat) & text.notna().to_numpy()
                if new.any():
                    unseen[c] = int(new.sum())
                rows[c] = cat
            elif pd.api.types.is_timedelta64_dtype(s):
                rows[c] = (s / _DAY).to_numpy(float)
            else:
                values = pd.to_numeric(s, errors="coerce")
                bad = values.isna() & s.notna()
                if bad.any():
                    raise _bad(
                        source, c, "numbers, as in the fitted table", list(pd.unique(s[bad]))[:5]
                    )
                rows[c] = values.to_numpy(float)
        _check_finite(pd.DataFrame(rows, index=X.index), source)
        if unseen:
            warnings.warn(
                f"{source}: levels the model never saw are read as missing: {unseen} rows",
                stacklevel=2,
            )
        Xs = pd.DataFrame(rows, index=X.index)[self.features_]
        with _fitting():
            p = self.model_.predict_proba(Xs)[:, 1]
        return pd.Series(p, index=X.index, name="churn_probability")

    @property
    def loc(self):
        return self.table.loc


def _prepare(X, source):
    """A model-ready copy: categoricals for text, numbers for bools/durations; ids and dates
    dropped (reported)."""
    X = X.copy()
    X.attrs = {}
    dropped = {}
    for col in list(X.columns):
        s = X[col]
        if pd.api.types.is_datetime64_any_dtype(s):
            X.pop(col)
            dropped[col] = "date/time column (use it to build features, e.g. tenure)"
        elif pd.api.types.is_timedelta64_dtype(s):
            X[col] = s / _DAY
        elif pd.api.types.is_bool_dtype(s):
            X[col] = s.astype(float)
        elif isinstance(s.dtype, pd.CategoricalDtype) or not pd.api.types.is_numeric_dtype(s):
            if not isinstance(s.dtype, pd.CategoricalDtype):  # text; missing stays NaN
                s = s.map(str, na_action="ignore").astype("category")
            n_levels = len(s.cat.categories)
            if len(X) > 20 and s.nunique() > 0.5 * len(X):
                X.pop(col)
                dropped[col] = "identifier-like (a different value in most rows)"
            elif n_levels > 250:
                X.pop(col)
                dropped[col] = f"{n_levels} categories (more than 250)"
            else:
                X[col] = s.cat.remove_unused_categories()
        else:
            X[col] = s.astype(float)
    _check_finite(X, source)
    if X.shape[1] == 0:
        raise DataError(
            source,
            [
                {
                    "column": "X",
                    "expected": "at least one usable feature column",
                    "rows": len(dropped),
                    "examples": list(dropped),
                }
            ],
        )
    if dropped:
        warnings.warn(f"compare_models: columns not used as features: {dropped}", stacklevel=3)
    return X, dropped


def _check_finite(X, source):
    """Refuse infinite numbers (a ratio divided by zero) before scikit-learn sees them: one
    DataError naming each column, how many rows and up to five row labels."""
    problems = infinite_values(X, X.columns)
    if problems:
        raise DataError(
            source,
            problems,
            hint="replace infinite values (e.g. a ratio divided by zero) with NaN, which the "
            "models read as missing, or with a cap",
        )


def _pipelines(X, random_state):
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    cat = [c for c in X.columns if isinstance(X[c].dtype, pd.CategoricalDtype)]
    num = [c for c in X.columns if c not in cat]
    signed_log = _SkewedLog()
    logistic = make_pipeline(
        ColumnTransformer(
            [
                (
                    "num",
                    make_pipeline(
                        SimpleImputer(
                            strategy="median", add_indicator=True, keep_empty_features=True
                        ),
                        signed_log,
                        StandardScaler(),
                    ),
                    num,
                ),
                (
                    "cat",
                    # on the category codes: scikit-learn counts and encodes text one value at
                    # a time in Python (2-3 s of a 14 s fit at 1M events); codes follow the
                    # categories' order, so ties and columns come out as on the text
                    make_pipeline(
                        _CategoryCodes(),
                        SimpleImputer(strategy="most_frequent", keep_empty_features=True),
                        OneHotEncoder(handle_unknown="ignore", min_frequency=5),
                    ),
                    cat,
                ),
            ],
            sparse_threshold=0,
        ),
        LogisticRegression(C=0.5, solver="newton-cholesky", max_iter=200),
    )
    boosting = make_pipeline(
        ColumnTransformer(
            [
                ("num", "passthrough", num),
                ("cat", _CategoryCodes(), cat),
            ],
            verbose_feature_names_out=False,
        ),
        _ColumnMajor(),
        HistGradientBoostingClassifier(
            learning_rate=0.05,
            max_iter=150,
            max_leaf_nodes=4,
            min_samples_leaf=50,
            l2_regularization=1.0,
            early_stopping=False,
            random_state=random_state,
            categorical_features=list(range(len(num), len(num) + len(cat))),
        ),
    )
    return {"logistic": logistic, "boosting": boosting}


@contextmanager
def _fitting():
    """One OpenMP and one BLAS thread while fitting: the tables are small, and on a shared or
    busy machine gradient boosting's and the logistic regression's threads spin-wait (5-10×
    slower; capping BLAS too took the sample's fit from 13.7 to 8.3 CPU seconds, 49 to 19 s
    under load); results are identical either way."""
    from threadpoolctl import threadpool_limits

    with warnings.catch_warnings(), threadpool_limits(limits=1):
        warnings.simplefilter("ignore", UserWarning)
        yield


def _signed_log(a):
    a = np.asarray(a, float)
    return np.sign(a) * np.log1p(np.abs(a))


#: Skewness above which the logistic baseline reads a number on a signed-log scale.
SKEW_LOG = 1.0


class _NoParams:
    """What scikit-learn asks of a transformer without parameters (cloned, put in a
    ColumnTransformer); sklearn's own mixins are not used so that importing this module
    does not import scikit-learn."""

    def fit_transform(self, X, y=None):
        return self.fit(X, y).transform(X)

    def get_params(self, deep=True):
        return {}

    def set_params(self, **params):
        return self

    def set_output(self, *, transform=None):
        return self


class _SkewedLog(_NoParams):
    """Signed log, ``sign(x)·log(1 + |x|)``, of the columns whose training skewness exceeds
    :data:`SKEW_LOG` (long-tailed counts and spend); the others pass unchanged, to be
    standardized. A log on every column bent linear effects (a per-call risk, a signed
    balance) and cost the logistic baseline several points of ROC AUC."""

    def fit(self, X, y=None):
        a = np.asarray(X, float)
        with np.errstate(invalid="ignore", divide="ignore"):
            centred = a - a.mean(0)
            sd = a.std(0)
            # a product, not **3: numpy's pow() took 0.27 s per fit on 46k rows × 82 columns
            skew = (centred * centred * centred).mean(0) / sd**3
        many = np.array([len(np.unique(a[:, j])) > 2 for j in range(a.shape[1])], bool)
        self.log_ = (np.nan_to_num(skew) > SKEW_LOG) & many
        self.n_features_in_ = a.shape[1]
        return self

    def transform(self, X):
        a = np.array(X, float)
        if a.shape[1]:
            a[:, self.log_] = _signed_log(a[:, self.log_])
        return a

    def get_feature_names_out(self, input_features=None):
        return np.asarray(input_features, dtype=object)


class _ColumnMajor(_NoParams):
    """The table in column-major order for gradient boosting: its predictor walks each tree
    over all rows, feature by feature, 3.7x faster than on row-major input (560k rows × 73
    features: 1.8 s against 6.8 s), with the same predictions."""

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return np.asfortranarray(X, dtype=float)

    def get_feature_names_out(self, input_features=None):
        return np.asarray(input_features, dtype=object)


class _CategoryCodes(_NoParams):
    """Pandas categoricals → their integer codes (NaN for missing), for native HGB categories.
    The categories are fixed when the table is prepared, so codes mean the same in every fold."""

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        out = (
            np.column_stack([X[c].cat.codes.to_numpy().astype(float) for c in X.columns])
            if X.shape[1]
            else np.zeros((len(X), 0))
        )
        out[out < 0] = np.nan
        return out


def _as_target(y, X, source):
    if isinstance(y, str):
        if y not in X.columns:
            raise DataError(
                source,
                [{"column": "y", "expected": f"a column of X named {y!r}"}],
                columns=X.columns,
            )
        return X.drop(columns=[y]), X[y]
    if y is None:
        raise DataError(
            source,
            [
                {
                    "column": "y",
                    "expected": "the target: a Series aligned with X or the name of a column of X",
                }
            ],
        )
    if isinstance(y, pd.Series):
        if len(y) != len(X):
            raise _bad(source, "y", f"{len(X)} values (one per row of X)", [len(y)])
        return X, pd.Series(y.to_numpy(), index=X.index, name=y.name or "churned")
    y = np.asarray(y)
    if len(y) != len(X):
        raise _bad(source, "y", f"{len(X)} values (one per row of X)", [len(y)])
    return X, pd.Series(y, index=X.index, name="churned")


#: Labels read as churn (1) in a two-level text target, case-insensitively.
POSITIVE_LABELS = ("yes", "y", "true", "t", "1", "churn", "churned", "lost", "left", "cancelled")


def _two_level(y, source):
    """A text or categorical target with exactly two labels → (0/1 floats, note), or None.

    The label counted as churn is the one in :data:`POSITIVE_LABELS` (``Yes``, ``True``,
    ``churned`` …); when neither or both are, the target is refused with its labels shown."""
    if pd.api.types.is_numeric_dtype(y) and not isinstance(y.dtype, pd.CategoricalDtype):
        return None
    known = y[y.notna()]
    labels = list(pd.unique(known.astype(str).str.strip()))
    if len(labels) != 2:
        return None
    positive = [lv for lv in labels if lv.lower() in POSITIVE_LABELS]
    if len(positive) != 1:
        raise DataError(
            source,
            [
                {
                    "column": "y",
                    "expected": "a 0/1 churn target, or two labels of which one reads as churn "
                    f"({', '.join(POSITIVE_LABELS)}); got the labels {labels}",
                    "rows": int(len(known)),
                    "examples": labels,
                }
            ],
            hint="map the target to 0/1 yourself, e.g. y.eq('Left').astype(int)",
        )
    pos = positive[0]
    neg = next(lv for lv in labels if lv != pos)
    values = pd.Series(np.nan, index=y.index)
    values[y.notna()] = (known.astype(str).str.strip() == pos).astype(float).to_numpy()
    note = f"target labels read as churn = {pos!r}, not churn = {neg!r}"
    warnings.warn(f"compare_models: {note}", stacklevel=4)
    return values, note


def _check_target(y, allow_missing, source):
    two = _two_level(y, source)
    if two is not None:
        values, note = two
        y = values
    else:
        note = None
    values = y.astype("float64") if y.dtype == bool else pd.to_numeric(y, errors="coerce")
    bad = values.notna() & ~values.isin([0, 1])
    if (y.notna() & values.isna()).any() or bad.any():
        wrong = bad | (y.notna() & values.isna())
        ex = list(pd.unique(y[wrong]))[:5]
        raise DataError(
            source,
            [
                {
                    "column": "y",
                    "expected": "a 0/1 (or True/False) churn target, or two labels such as Yes/No",
                    "rows": int(wrong.sum()),
                    "examples": ex,
                }
            ],
        )
    missing = values.isna()
    if missing.any() and not allow_missing:
        raise DataError(
            source,
            [
                {
                    "column": "y",
                    "expected": "a churn label in every row; some are missing",
                    "rows": int(missing.sum()),
                    "examples": [str(i) for i in y.index[missing][:5]],
                }
            ],
            hint="drop rows without a label, or pass a churn_dataset result whose "
            "unlabelled rows carry cutoffs",
        )
    known = values[~missing]
    values.attrs["note"] = note
    if known.nunique() < 2:
        raise DataError(
            source,
            [
                {
                    "column": "y",
                    "expected": "both churners and non-churners (the target has one class)",
                    "rows": int(len(known)),
                    "examples": list(pd.unique(known))[:2],
                }
            ],
        )
    return values


#: Default cap on the rows a model learns from (:func:`compare_models`' ``max_train_rows``).
MAX_TRAIN_ROWS = 100_000


def _train_cap(value, source):
    if value is None:
        return None
    ok = isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= 100
    if not ok:
        raise _bad(source, "max_train_rows", "a whole number of at least 100, or None", [value])
    return int(value)


def _capped(rows, cap, rng):
    """``rows`` (positions), or a sorted seeded sample of ``cap`` of them when there are more."""
    if cap is None or len(rows) <= cap:
        return rows
    return np.sort(rng.choice(rows, size=cap, replace=False))


def compare_models(
    X,
    y=None,
    *,
    cutoffs=None,
    horizon=None,
    n_splits=5,
    n_boot=200,
    select="log_loss",
    max_train_rows=MAX_TRAIN_ROWS,
    random_state=0,
):
    """Fit a logistic-regression baseline and gradient boosting; evaluate them honestly.

    Parameters
    ----------
    X : DataFrame
        Any feature table: numeric and categorical (text) columns, missing values allowed —
        a :func:`churn_dataset` result or a plain customer table. Date columns and
        identifier-like text columns are left out (with a warning).
    y : Series, array or str
        The 0/1 churn target aligned with X, or the name of a column of X.
    cutoffs : array-like, optional
        Each row's cutoff date. Default: the ``cutoff`` index level when X has one. With cutoffs
        the evaluation is **out of time**: for each cutoff in turn, models are trained only on
        cutoffs whose label horizon ends on or before it, and tested on it (rolling forward).
        Rows without a label (NaN) are then scoring rows and are left out (counted). Without
        cutoffs: stratified ``n_splits``-fold cross-validation, and a missing label is an error.
    horizon : str, optional
        Label horizon; default ``X.attrs["horizon"]`` from :func:`churn_dataset`.
    n_boot : int
        Bootstrap replicates over customers for the CIs.
    select : str
        Held-out metric choosing the returned model: ``"log_loss"`` (default; rewards ranking
        and calibration, both needed to value a campaign), ``"roc_auc"``, ``"pr_auc"`` or
        ``"brier"``. The simpler logistic regression is kept unless gradient boosting is better
        on it with a paired bootstrap interval of the difference excluding 0 (``n_boot=0``:
        no interval, so the simpler model).
    max_train_rows : int or None
        Each model learns from at most this many rows: a larger training set (of a split, or
        all labelled rows for the returned model) is replaced by a seeded random sample of
        its rows, without replacement. Held-out rows are all predicted and evaluated as
        before, so the metrics are those of the model actually used. ``None``: every row.
        The cap bounds the fitting time on large journeys (at 10M events, five splits train
        on 240k–410k rows); what it costs in accuracy is in the decisions log.
    random_state : int

    Returns
    -------
    ModelComparison
        ``.table``: one row per model with ``roc_auc``, ``pr_auc``, ``base_rate`` (%),
        ``brier``, ``log_loss``, ``lift_at_10pct``, each with ``*_ci_low``/``*_ci_high``, and
        ``fit_seconds``; ``.model_``: the chosen model refitted on all labelled rows.

    Examples
    --------
    >>> import cxkit
    >>> X, y = cxkit.churn_dataset(cxkit.load_sample(), "MS")
    >>> result = cxkit.compare_models(X, y, n_boot=50)
    >>> list(result.table.index)
    ['logistic', 'boosting']
    """
    source = "compare_models()"
    if not isinstance(X, pd.DataFrame):
        raise _bad(source, "X", "a DataFrame of features", [type(X).__name__])
    if len(X) == 0:
        raise _bad(source, "X", "at least one row of features; X is empty", [0])
    if select not in ("log_loss", "roc_auc", "pr_auc", "brier"):
        raise _bad(source, "select", "one of log_loss, roc_auc, pr_auc, brier", [select])
    cap = _train_cap(max_train_rows, source)
    X, y = _as_target(y, X, source)
    if cutoffs is None and "cutoff" in (X.index.names or []):
        cut = pd.DatetimeIndex(X.index.get_level_values("cutoff"))
    elif cutoffs is not None:
        cut = pd.DatetimeIndex(pd.to_datetime(np.asarray(cutoffs)))
        if len(cut) != len(X):
            raise _bad(source, "cutoffs", f"one cutoff per row of X ({len(X)})", [len(cut)])
    else:
        cut = None
    y = _check_target(y, allow_missing=cut is not None, source=source)
    labelled = y.notna().to_numpy()
    Xp, dropped = _prepare(X, source)
    groups = _groups(X)

    if cut is not None:
        h = horizon if horizon is not None else X.attrs.get("horizon")
        if h is None:
            raise _bad(
                source,
                "horizon",
                "the label horizon (e.g. '30D') when rows carry "
                "cutoffs; churn_dataset results carry it",
            )
        h = duration(h, "horizon", "compare_models")
        splits, skipped = _out_of_time_splits(cut, labelled, y.to_numpy(), h, n_splits)
        if not splits:
            raise DataError(
                source,
                [
                    {
                        "column": "cutoffs",
                        "expected": "at least two cutoffs "
                        f"more than the horizon ({h}) apart with known labels, so "
                        "that an earlier one can train for a later one",
                    }
                ],
            )
        evaluation = "out of time"
    else:
        from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

        yy = y.to_numpy().astype(int)
        if len(np.unique(groups)) < len(groups):
            kf = StratifiedGroupKFold(n_splits, shuffle=True, random_state=random_state)
            it = kf.split(Xp, yy, groups)
        else:
            kf = StratifiedKFold(n_splits, shuffle=True, random_state=random_state)
            it = kf.split(Xp, yy)
        splits = [{"train": tr, "test": te, "cutoff": None} for tr, te in it]
        skipped = []
        evaluation = f"{n_splits}-fold cross-validation"

    from sklearn.base import clone

    protos = _pipelines(Xp, random_state)
    yv = y.to_numpy()
    test_rows = np.concatenate([s["test"] for s in splits])
    probs = {name: np.empty(len(test_rows)) for name in protos}
    fit_seconds = dict.fromkeys(protos, 0.0)
    pos = 0
    sampler = np.random.default_rng([random_state, 1])  # its own stream: the bootstrap's is kept
    for f, split in enumerate(splits):
        tr, te = split["train"], split["test"]
        split["models"] = {}
        split["fold"] = f
        tr = _capped(tr, cap, sampler)
        split["fitted_on"] = len(tr)
        for name, proto in protos.items():
            model = clone(proto)
            t0 = time.perf_counter()
            with _fitting():
                model.fit(Xp.iloc[tr], yv[tr].astype(int))
            fit_seconds[name] += time.perf_counter() - t0
            with _fitting():  # prediction too: spin-waiting threads cost 4 s at 1M events
                probs[name][pos : pos + len(te)] = model.predict_proba(Xp.iloc[te])[:, 1]
            split["models"][name] = model
        pos += len(te)
    y_test = yv[test_rows].astype(int)
    fold_of = np.concatenate([np.full(len(s["test"]), i) for i, s in enumerate(splits)])
    g_test = groups[test_rows]

    # the base-rate predictor each split could have used: its training churn rate
    base_pred = np.concatenate([np.full(len(s["test"]), yv[s["train"]].mean()) for s in splits])
    rng = np.random.default_rng(random_state)
    preds = {**probs, "_base": base_pred}
    point = {n: _metrics(p, y_test) for n, p in preds.items()}
    boot = _bootstrap(preds, y_test, g_test, n_boot, rng)
    metrics = ("roc_auc", "pr_auc", "brier", "log_loss", "lift_at_10pct", "brier_skill")
    for n in preds:  # skill vs the base-rate predictor, paired on the same customers
        point[n]["brier_skill"] = 1 - point[n]["brier"] / point["_base"]["brier"]
        if n_boot:
            boot[n]["brier_skill"] = 1 - boot[n]["brier"] / boot["_base"]["brier"]
    table = []
    for name in protos:
        row = {
            "model": name,
            "n": len(y_test),
            "churners": int(y_test.sum()),
            "base_rate": 100 * y_test.mean(),
        }
        for metric in metrics:
            row[metric] = float(point[name][metric][0])
            lo, hi = (
                np.nanpercentile(boot[name][metric], [2.5, 97.5]) if n_boot else (np.nan, np.nan)
            )
            row[f"{metric}_ci_low"], row[f"{metric}_ci_high"] = float(lo), float(hi)
        row["fit_seconds"] = fit_seconds[name]
        table.append(row)
    table = pd.DataFrame(table).set_index("model")
    order = ["n", "churners", "base_rate"] + [
        f"{m}{s}" for m in metrics for s in ("", "_ci_low", "_ci_high")
    ]
    table = table[order + ["fit_seconds"]]
    differences = _differences(point, boot, list(protos), metrics, n_boot)
    best = _choose(differences, list(protos), select)

    final = clone(protos[best])
    final_rows = _capped(np.flatnonzero(labelled), cap, sampler)
    with _fitting():
        final.fit(Xp.iloc[final_rows], yv[final_rows].astype(int))
    preds = pd.DataFrame(
        {
            "churned": y_test,
            "fold": fold_of,
            "group": g_test,
            **{f"p_{n}": probs[n] for n in protos},
        },
        index=X.index[test_rows],
    )
    family = {c: X.attrs.get("feature_family", {}).get(c, c) for c in Xp.columns}
    reference = {
        c: (
            Xp.loc[labelled, c].mode(dropna=True).iloc[0]
            if isinstance(Xp[c].dtype, pd.CategoricalDtype)
            else float(Xp.loc[labelled, c].median())
        )
        for c in Xp.columns
    }
    spec = None
    if X.attrs.get("source") == "churn_dataset":
        keys = ("lookback", "horizon", "recent", "static", "families", "label", "activity")
        spec = {k: X.attrs[k] for k in keys if k in X.attrs}
    notes = {
        "rows": len(X),
        "rows_unlabelled": int((~labelled).sum()),
        "rows_evaluated": len(test_rows),
        "dropped_columns": dropped,
        "skipped_cutoffs": skipped,
        "select": select,
        "max_train_rows": cap,
        "rows_fitted": [int(s["fitted_on"]) for s in splits],
        "rows_fitted_final": len(final_rows),
        "target": y.attrs.get("note"),
        "choice": "the simpler model unless the other is better on the select metric with a "
        "paired bootstrap interval excluding 0",
    }
    table.attrs = jsonable({"evaluation": evaluation, **notes})
    return ModelComparison(
        table=table,
        best_=best,
        model_=final,
        predictions_=preds,
        folds_=splits,
        X_=Xp,
        y_=y,
        evaluation_=evaluation,
        features_=list(Xp.columns),
        family_=family,
        reference_=reference,
        spec_=spec,
        notes_=notes,
        differences_=differences,
    )


_LOWER_IS_BETTER = ("brier", "log_loss")


def _differences(point, boot, names, metrics, n_boot):
    """Paired bootstrap differences, each other model − the first (simplest), per metric."""
    simple, rows = names[0], []
    for other in names[1:]:
        for m in metrics:
            d = float(point[other][m][0] - point[simple][m][0])
            if n_boot:
                lo, hi = np.nanpercentile(boot[other][m] - boot[simple][m], [2.5, 97.5])
            else:
                lo = hi = np.nan
            lower = m in _LOWER_IS_BETTER
            favours = other if (d < 0 if lower else d > 0) else simple
            rows.append(
                {
                    "model": other,
                    "versus": simple,
                    "metric": m,
                    "difference": d,
                    "ci_low": float(lo),
                    "ci_high": float(hi),
                    "favours": favours,
                    "clear": bool(hi < 0 or lo > 0),
                }
            )
    return pd.DataFrame(rows).set_index("metric") if rows else pd.DataFrame()


def _choose(differences, names, select):
    """The simplest model, unless another is better on ``select`` with a paired interval that
    excludes 0 (then the best of those by the point difference)."""
    if differences.empty:
        return names[0]
    d = differences.loc[[select]]
    better = d[(d["favours"] == d["model"]) & d["clear"]]
    if better.empty:
        return names[0]
    sign = -1 if select in _LOWER_IS_BETTER else 1
    gain = sign * better["difference"].to_numpy()
    return str(better["model"].iloc[int(np.argmax(gain))])


def _groups(X):
    if "customer_id" in (X.index.names or []):
        ids = X.index.get_level_values("customer_id")
    elif "customer_id" in X.columns:
        ids = X["customer_id"]
    else:
        return np.arange(len(X))
    return pd.factorize(np.asarray(ids, dtype=object))[0]


def _out_of_time_splits(cut, labelled, y, horizon, n_splits):
    """Rolling forward: test on each cutoff, train on cutoffs whose horizon has ended by then."""
    splits, skipped = [], []
    cv = cut.to_numpy()
    ends = cv + horizon.to_timedelta64()
    for c in np.unique(cv[labelled])[::-1]:  # latest first; the last n_splits usable ones
        if len(splits) == n_splits:
            break
        test = np.flatnonzero(labelled & (cv == c))
        train = np.flatnonzero(labelled & (ends <= c))
        if len(train) == 0 or len(np.unique(y[train])) < 2 or len(np.unique(y[test])) < 2:
            skipped.append(str(pd.Timestamp(c).date()))
            continue
        splits.append({"train": train, "test": test, "cutoff": pd.Timestamp(c)})
    return splits[::-1], skipped[::-1]


def _metrics(p, y, W=None, *, auc_only=False):
    """Held-out metrics of probabilities ``p`` (n) for outcomes ``y``, under row weights ``W``
    (B×n bootstrap weights, or None for the plain estimate → arrays of length 1); only
    ``roc_auc`` with ``auc_only`` (what permutation importance needs, at half the cost).

    Ties in the scores are handled as scikit-learn does (ROC AUC and average precision match
    ``roc_auc_score`` / ``average_precision_score`` with ``sample_weight``)."""
    p = np.asarray(p, float).ravel()
    W = np.ones((1, len(p))) if W is None else W
    yf = np.asarray(y, float)
    order = np.argsort(-p, kind="stable")
    ps = p[order]
    starts = np.flatnonzero(np.r_[True, ps[1:] != ps[:-1]])
    out = {
        k: np.empty(W.shape[0])
        for k in ("roc_auc", "pr_auc", "brier", "log_loss", "lift_at_10pct")
    }
    for b0 in range(0, W.shape[0], 64):  # blocks of replicates bound memory
        Wb = W[b0 : b0 + 64]
        # np.take, not Wb[:, order]: that result is column-major, and the running sums along
        # its rows then took 3-10x longer (memory order), most of the bootstrap's time
        _fill(out, b0, np.take(Wb, order, axis=1), yf[order], starts, p, Wb, yf, auc_only)
    return {"roc_auc": out["roc_auc"]} if auc_only else out


def _fill(out, b0, Ws, ys, starts, P, W, y, auc_only=False):
    # weight of positives and negatives up to the end of each group of tied scores, from
    # running sums read at the groups' ends: np.add.reduceat over ~n groups of one row took
    # 20 of importance's 34 CPU seconds at 10M events. Bootstrap weights are whole numbers,
    # so these sums are exact, and equal to summing each group first.
    cw = np.cumsum(Ws, 1)
    cp = np.cumsum(Ws * ys, 1)
    if len(starts) == Ws.shape[1]:  # no ties
        tp, fp = cp, cw - cp
    else:
        ends = np.r_[starts[1:], Ws.shape[1]] - 1
        tp = cp[:, ends]
        fp = cw[:, ends] - tp
    wp, wn = tp.copy(), fp.copy()  # (C-ordered, as the sums below expect)
    wp[:, 1:] -= tp[:, :-1]
    wn[:, 1:] -= fp[:, :-1]
    pos, neg = tp[:, -1], fp[:, -1]
    sl = slice(b0, b0 + Ws.shape[0])
    with np.errstate(divide="ignore", invalid="ignore"):
        auc = (wn * (tp - wp / 2)).sum(1) / (pos * neg)
        if auc_only:
            out["roc_auc"][sl] = auc
            return
        prec = np.where(tp + fp > 0, tp / (tp + fp), 0)
        ap = (wp * prec).sum(1) / pos
        total = Ws.sum(1)
        top = (cw - Ws) < 0.1 * total[:, None] - 1e-9
        lift = ((Ws * ys * top).sum(1) / (Ws * top).sum(1)) / (pos / total)
        p = np.clip(P, 1e-15, 1 - 1e-15)
        brier = (W * (p - y) ** 2).sum(1) / W.sum(1)
        ll = -(W * (y * np.log(p) + (1 - y) * np.log(1 - p))).sum(1) / W.sum(1)
    out["roc_auc"][sl], out["pr_auc"][sl], out["lift_at_10pct"][sl] = auc, ap, lift
    out["brier"][sl], out["log_loss"][sl] = brier, ll


def _boot_weights(groups, n_boot, rng):
    """Cluster-bootstrap weights: each customer drawn with replacement; rows weighted by how
    often their customer was drawn (B × n)."""
    codes, uniq = pd.factorize(groups)
    G = len(uniq)
    counts = rng.multinomial(G, np.full(G, 1 / G), size=n_boot).astype(np.float64)
    return counts[:, codes]


def _bootstrap(preds, y, groups, n_boot, rng, block=50):
    """Metrics of every prediction vector under the same cluster-bootstrap replicates (paired),
    in blocks of replicates so memory stays bounded."""
    out = {n: {} for n in preds}
    if not n_boot:
        return out
    codes, uniq = pd.factorize(groups)
    G = len(uniq)
    parts = {n: [] for n in preds}
    for b0 in range(0, n_boot, block):
        counts = rng.multinomial(G, np.full(G, 1 / G), size=min(block, n_boot - b0))
        W = counts[:, codes].astype(np.float64)
        for n, p in preds.items():
            parts[n].append(_metrics(p, y, W))
    for n in preds:
        out[n] = {m: np.concatenate([d[m] for d in parts[n]]) for m in parts[n][0]}
    return out
