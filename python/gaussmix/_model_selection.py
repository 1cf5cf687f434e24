"""select_model: fit every (n_components, covariance_type) pair with restarts and rank them."""

from __future__ import annotations

import numbers
import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Iterable

import numpy as np
from numpy.typing import ArrayLike

from . import _validation as v
from ._dask import is_dask_array
from ._gaussian_mixture import GaussianMixture
from ._layout import MCLUST_MODELS, SKLEARN_TYPES
from ._missing import check_incomplete
from ._sklearn_compat import ConvergenceWarning

__all__ = ["ModelSelectionResult", "select_model"]

CRITERIA = ("bic", "aic", "icl")

TABLE_DTYPE = np.dtype(
    [
        ("n_components", np.int64),
        ("covariance_type", "U9"),
        ("log_likelihood", np.float64),
        ("n_parameters", np.int64),
        ("bic", np.float64),
        ("aic", np.float64),
        ("icl", np.float64),
        ("converged", np.bool_),
        ("n_iter", np.int64),
        ("error", "U200"),
    ]
)


@dataclass(repr=False)
class ModelSelectionResult:
    """What :func:`select_model` returns.

    Attributes
    ----------
    best_estimator_ : GaussianMixture
        The fitted model with the lowest criterion (the first in table order on ties).
    criterion : str
        'bic', 'aic' or 'icl': the column the best model was chosen by.
    table : numpy structured array of shape (n_combinations,)
        One row per (n_components, covariance_type) in the order they were requested, with
        fields n_components, covariance_type, log_likelihood (total, weighted, at the fitted
        parameters), n_parameters, bic, aic, icl (all three lower is better), converged,
        n_iter and error (empty, or why the fit failed; the criteria of a failed fit are +inf
        and its log-likelihood NaN).
    best_index_ : int
        Row of the table that holds the best model.

    Examples
    --------
    >>> import numpy as np
    >>> import gaussmix
    >>> X = np.random.RandomState(0).normal(size=(300, 2))
    >>> result = gaussmix.select_model(X, n_components=[1, 2], random_state=0)
    >>> result.best_params_["n_components"]
    1
    """

    best_estimator_: GaussianMixture
    criterion: str
    table: np.ndarray
    best_index_: int

    @property
    def best_params_(self):
        """{'n_components': ..., 'covariance_type': ...} of the best model."""
        row = self.table[self.best_index_]
        return {
            "n_components": int(row["n_components"]),
            "covariance_type": str(row["covariance_type"]),
        }

    def __repr__(self):
        return (
            f"ModelSelectionResult(criterion={self.criterion!r}, best={self.best_params_})\n"
            + self.format_table()
        )

    def format_table(self) -> str:
        """The table as aligned text, one line per combination, the selected one marked '*'.

        Examples
        --------
        >>> import numpy as np
        >>> import gaussmix
        >>> X = np.random.RandomState(0).normal(size=(300, 2))
        >>> result = gaussmix.select_model(X, n_components=[1, 2], random_state=0)
        >>> sum(line.startswith("*") for line in result.format_table().splitlines())
        1
        """
        head = [
            "",
            "k",
            "covariance_type",
            "log_likelihood",
            "n_parameters",
            "bic",
            "aic",
            "icl",
            "converged",
            "n_iter",
            "error",
        ]
        rows = []
        for i, row in enumerate(self.table):
            rows.append(
                [
                    "*" if i == self.best_index_ else "",
                    str(row["n_components"]),
                    str(row["covariance_type"]),
                    f"{row['log_likelihood']:.6g}",
                    str(row["n_parameters"]),
                    f"{row['bic']:.6g}",
                    f"{row['aic']:.6g}",
                    f"{row['icl']:.6g}",
                    str(bool(row["converged"])),
                    str(row["n_iter"]),
                    str(row["error"])[:60],
                ]
            )
        widths = [max(len(r[c]) for r in [head, *rows]) for c in range(len(head))]
        return "\n".join(
            "  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in [head, *rows]
        )

    def to_dicts(self) -> list[dict[str, Any]]:
        """The table as a list of dicts (one per row, Python scalars).

        Examples
        --------
        >>> import numpy as np
        >>> import gaussmix
        >>> X = np.random.RandomState(0).normal(size=(300, 2))
        >>> result = gaussmix.select_model(X, n_components=[1, 2], random_state=0)
        >>> len(result.to_dicts())
        8
        """
        names = self.table.dtype.names or ()
        return [{name: row[name].item() for name in names} for row in self.table]

    def to_pandas(self) -> Any:
        """The table as a pandas DataFrame (needs pandas).

        Examples
        --------
        >>> import numpy as np
        >>> import gaussmix
        >>> X = np.random.RandomState(0).normal(size=(300, 2))
        >>> result = gaussmix.select_model(X, n_components=[1, 2], random_state=0)
        >>> result.to_pandas().shape[0]
        8
        """
        try:
            import pandas as pd
        except ImportError as exc:
            raise ImportError(
                "ModelSelectionResult.to_pandas() needs pandas; install it with `pip install pandas`."
            ) from exc
        return pd.DataFrame.from_records(self.table)

    def plot(self, ax: Any = None, criterion: str | None = None, mclust_sign: bool = False) -> Any:
        """Plot a criterion against n_components, one line per covariance type: mclust's BIC
        plot (each covariance type its own marker and colour, the selection circled).

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Where to draw; None uses the current axes.
        criterion : {'bic', 'aic', 'icl'}, default=None
            None plots the criterion the model was selected by.
        mclust_sign : bool, default=False
            True plots mclust's sign, 2 log L - penalty (higher is better).

        Returns
        -------
        ax : matplotlib Axes

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> import numpy as np
        >>> import gaussmix
        >>> X = np.random.RandomState(0).normal(size=(300, 2))
        >>> result = gaussmix.select_model(X, n_components=[1, 2], random_state=0)
        >>> ax = result.plot()
        """
        from .plot import plot_selection

        return plot_selection(self, ax=ax, criterion=criterion, mclust_sign=mclust_sign)


def _check_criterion(criterion):
    if criterion not in CRITERIA:
        raise ValueError(f"criterion must be one of {CRITERIA}, got {criterion!r}.")
    return criterion


def _available_cores():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def _entropy(resp, sample_weight):
    """-sum_i w_i sum_c r_ic log r_ic (0 log 0 = 0)."""
    plogp = np.where(resp > 0, resp * np.log(np.where(resp > 0, resp, 1.0)), 0.0)
    per_row = -plogp.sum(axis=1)
    return float(per_row.sum() if sample_weight.size == 0 else np.dot(sample_weight, per_row))


def _dask_criteria(est, X, sample_weight):
    """(total weight, log-likelihood, entropy) of a Dask array, in one computation."""
    import dask

    log_density = est.score_samples(X)
    resp = est.predict_proba(X)
    plogp = dask.array.where(
        resp > 0, resp * dask.array.log(dask.array.where(resp > 0, resp, 1.0)), 0.0
    )
    entropy_rows = -plogp.sum(axis=1)
    if sample_weight.size == 0:
        parts = (X.shape[0], log_density.sum(), entropy_rows.sum())
    else:
        parts = (
            sample_weight.sum(),
            (sample_weight * log_density).sum(),
            (sample_weight * entropy_rows).sum(),
        )
    return tuple(float(p) for p in dask.compute(*parts))


def _dask_weights(sample_weight, X):
    import dask.array as da

    w = sample_weight if is_dask_array(sample_weight) else np.asarray(sample_weight, dtype=float)
    if not is_dask_array(w):
        w = da.from_array(w, chunks=(X.chunks[0],))
    return w


def _failed_row(n_components, covariance_type, why):
    return (n_components, covariance_type, np.nan, 0, np.inf, np.inf, np.inf, False, 0, why[:200])


def _fit_one(
    X, sample_weight, n_components, covariance_type, seed, n_init, n_threads, params, n_distinct
):
    """Fits one combination; returns (estimator or None, table row values)."""
    # (More components than rows is the fit's own error, reported as it words it.)
    if n_distinct < n_components <= X.shape[0]:
        # Such a fit "succeeds" with components collapsed onto single points (their
        # covariance reg_covar * I) and a likelihood that grows without bound as reg_covar
        # shrinks: a degenerate model, never a choice.
        return None, _failed_row(
            n_components,
            covariance_type,
            f"degenerate: {n_components} components for {n_distinct} distinct points",
        )
    est = GaussianMixture(
        n_components,
        covariance_type=covariance_type,
        n_init=n_init,
        random_state=seed,
        n_threads=n_threads,
        **params,
    )
    try:
        est.fit(X, sample_weight=None if sample_weight.size == 0 else sample_weight)
    except ValueError as exc:
        # A combination the data cannot support (too many components, a singular covariance)
        # is a result for the table, not a reason to lose the other fits.
        return None, _failed_row(n_components, covariance_type, str(exc))
    if is_dask_array(X):
        n_total, log_likelihood, entropy = _dask_criteria(est, X, sample_weight)
    else:
        n_total = float(X.shape[0] if sample_weight.size == 0 else sample_weight.sum())
        log_density = est.score_samples(X)
        log_likelihood = float(
            log_density.sum() if sample_weight.size == 0 else np.dot(sample_weight, log_density)
        )
        entropy = _entropy(est.predict_proba(X), sample_weight)
    n_parameters = est._n_parameters()
    bic = -2.0 * log_likelihood + n_parameters * np.log(n_total)
    aic = -2.0 * log_likelihood + 2.0 * n_parameters
    icl = bic + 2.0 * entropy
    row = (
        n_components,
        covariance_type,
        log_likelihood,
        n_parameters,
        bic,
        aic,
        icl,
        bool(est.converged_),
        int(est.n_iter_),
        "",
    )
    return est, row


def select_model(
    X: ArrayLike,
    n_components: int | Iterable[int] = range(1, 10),
    covariance_types: str | Iterable[str] = SKLEARN_TYPES,
    *,
    criterion: str = "bic",
    sample_weight: ArrayLike | None = None,
    n_init: int = 1,
    random_state: int | np.random.RandomState | None = None,
    n_jobs: int | None = None,
    **params: Any,
) -> ModelSelectionResult:
    """Fit a GaussianMixture for every (n_components, covariance_type) and pick the best.

    Every combination is fitted with `n_init` restarts. BIC = -2 log L + p log N,
    AIC = -2 log L + 2 p and ICL = BIC + 2 * entropy of the responsibilities (Biernacki et al.
    2000), where log L is the (weighted) log-likelihood at the fitted parameters, p the number
    of free parameters (scikit-learn's count) and N the number of samples (the total weight with
    sample weights). Lower is better for all three. BIC and AIC equal scikit-learn's `bic(X)`
    and `aic(X)` for the same parameters.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    n_components : int or iterable of int, default=range(1, 10)
    covariance_types : str or iterable of str, default=('full', 'tied', 'diag', 'spherical')
        Any of GaussianMixture's covariance types; 'all' means the mclust models gaussmix fits
        (all fourteen: EII, VII, EEI, VEI, EVI, VVI, EEE, VEE, EVE, VVE, EEV, VEV, EVV, VVV).
    criterion : {'bic', 'aic', 'icl'}, default='bic'
    sample_weight : array-like of shape (n_samples,), default=None
    n_init : int, default=1
        Restarts per combination (the best lower bound is kept).
    random_state : int, RandomState instance or None, default=None
        Each combination gets its own seed drawn from this in table order, so the result does
        not depend on n_jobs or on the order in which fits finish.
    n_jobs : int or None, default=None
        Fits run at the same time, in threads (the compiled core releases the GIL). None or -1:
        one per available core. Each fit gets ``cores // n_jobs`` threads of its own (at least
        one). Parallel fits are preferred over threads inside one fit: model selection is many
        small fits, and a pass over a few thousand rows is too short to split among threads,
        while separate fits share nothing. Results do not depend on n_jobs.
    **params
        Further GaussianMixture parameters for every fit (tol, reg_covar, max_iter,
        init_params, prior, ...). With a prior, the models that take none (VEE, EVE, VVE,
        EVV) are rows with an error and no score.

    Returns
    -------
    result : ModelSelectionResult
        ``result.best_estimator_``, ``result.table`` (one row per combination),
        ``result.to_pandas()``, ``result.plot()``.

    Raises
    ------
    ValueError
        On bad arguments, or when no combination could be fitted.

    Examples
    --------
    >>> import numpy as np
    >>> import gaussmix
    >>> X = np.random.RandomState(0).normal(size=(300, 2))
    >>> result = gaussmix.select_model(X, n_components=[1, 2], random_state=0)
    >>> result.best_estimator_.n_components
    1
    """
    _check_criterion(criterion)
    # With missing="marginalize" NaN marks unobserved values; each fit checks the rest.
    marginalize = params.get("missing") == "marginalize"
    if is_dask_array(X):
        # Each fit validates the chunks in its first pass; the weights stay a Dask array.
        data = X
        w = np.empty(0) if sample_weight is None else _dask_weights(sample_weight, X)
    else:
        data = v.check_array(X, min_samples=2, allow_nan=marginalize)
        if marginalize:
            check_incomplete(data)
        w = v.check_sample_weight(sample_weight, data.shape[0])

    ks: list = (
        [n_components] if isinstance(n_components, numbers.Integral) else list(n_components)  # type: ignore[arg-type]
    )
    if not ks:
        raise ValueError("n_components must name at least one number of components.")
    for k in ks:
        if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
            raise ValueError(f"n_components must hold integers >= 1, got {k!r}.")
    if isinstance(covariance_types, str) and covariance_types == "all":
        covariance_types = MCLUST_MODELS
    types: list = (
        [covariance_types] if isinstance(covariance_types, str) else list(covariance_types)
    )
    if not types:
        raise ValueError("covariance_types must name at least one covariance type.")
    for t in types:
        if t not in v.COVARIANCE_TYPES:
            raise ValueError(
                f"covariance_types must hold values from {v.COVARIANCE_TYPES}, got {t!r}."
            )
    reserved = {"n_components", "covariance_type", "random_state", "n_init", "n_threads"} & set(
        params
    )
    if reserved:
        raise ValueError(
            f"{sorted(reserved)} are set by select_model itself; pass them as its own arguments."
        )
    if isinstance(n_init, bool) or not isinstance(n_init, numbers.Integral) or n_init < 1:
        raise ValueError(f"n_init must be an integer >= 1, got {n_init!r}.")

    cores = _available_cores()
    if n_jobs is None or n_jobs == -1:
        n_jobs = cores
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, numbers.Integral) or n_jobs < 1:
        raise ValueError(f"n_jobs must be None, -1 or an integer >= 1, got {n_jobs!r}.")
    combos = [(k, t) for t in types for k in ks]
    n_jobs = min(n_jobs, len(combos))
    threads_per_fit = max(1, cores // n_jobs)

    rng = v.check_random_state(random_state)
    seeds = rng.randint(np.iinfo(np.int32).max, size=len(combos))

    # Rows with positive weight that differ from each other: at most that many components can
    # each have samples of their own. Counted only when some combination could exceed it.
    if is_dask_array(data):
        n_distinct = data.shape[0]  # not counted: that would pull the rows to the client
    else:
        weighted = data if w.size == 0 else data[w > 0]
        n_distinct = len(weighted) if max(ks) <= 1 else len(np.unique(weighted, axis=0))

    def task(i):
        k, t = combos[i]
        return _fit_one(data, w, k, t, int(seeds[i]), n_init, threads_per_fit, params, n_distinct)

    # Biggest fits first, so the last fit to finish is a small one.
    order = sorted(range(len(combos)), key=lambda i: -combos[i][0])
    with warnings.catch_warnings():
        # Convergence is recorded per fit in the table; only the chosen model's is warned about.
        warnings.simplefilter("ignore", ConvergenceWarning)
        if n_jobs == 1:
            outputs = {i: task(i) for i in order}
        else:
            with ThreadPoolExecutor(max_workers=n_jobs) as pool:
                futures = {i: pool.submit(task, i) for i in order}
                outputs = {i: f.result() for i, f in futures.items()}

    table = np.array([outputs[i][1] for i in range(len(combos))], dtype=TABLE_DTYPE)
    scores = table[criterion]
    if not np.isfinite(scores).any():
        raise ValueError(
            "No combination could be fitted; the first error was: " + table["error"][0]
        )
    best = int(np.argmin(scores))
    estimator = outputs[best][0]
    # Each fit ran on its share of the cores; the model handed back uses them all, as a
    # GaussianMixture made by the user would (so a clone or refit is not stuck on one thread).
    estimator.n_threads = None
    if not estimator.converged_:
        warnings.warn(
            f"The selected model ({combos[best][0]} components, {combos[best][1]!r}) did not "
            "converge; increase max_iter or tol.",
            ConvergenceWarning,
        )
    return ModelSelectionResult(estimator, criterion, table, best)
