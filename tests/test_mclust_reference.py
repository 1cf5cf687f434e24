"""Against R's mclust (numbers stored in tests/data/mclust_reference.csv by
tools/mclust_reference.R; R is not needed here): the parameter counts are mclust's, and the
log-likelihood that gaussmix reaches with n_init=10 is at least mclust's, on iris and wine, for
every model gaussmix fits and k = 1..5.

BIC: mclust reports 2 log L - p log n (higher is better); gaussmix's bic() keeps
scikit-learn's sign, -2 log L + p log n (lower is better). The test checks both.

The cases listed in KNOWN_GAPS end below mclust's optimum from gaussmix's current starts
(k-means on standardised data, best of 10), or, on iris with k = 5 and some wine fits, hit a
singular covariance in one of the ten starts (reg_covar=0 here, as mclust has none), which
fails the whole fit. mclust starts from model-based hierarchical agglomeration. They are
expected failures until that start exists (see the README's mclust section).
"""

import csv
import os
import warnings

import numpy as np
import pytest

from gaussmix import GaussianMixture

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data")
with open(os.path.join(DATA, "mclust_reference.csv")) as _f:
    ROWS = list(csv.DictReader(_f))
KNOWN_GAPS = {
    ("iris", "VVI", 5),
    ("iris", "VVE", 5),
    ("iris", "VVV", 5),
    ("wine", "EEE", 3),
    ("wine", "VEE", 5),
    ("wine", "EVE", 3),
    ("wine", "EVE", 4),
    ("wine", "EVE", 5),
    ("wine", "VVE", 3),
    ("wine", "VVE", 4),
    ("wine", "VVE", 5),
    ("wine", "VEV", 3),
    ("wine", "EVV", 3),
    ("wine", "EVV", 4),
    ("wine", "VVV", 3),
    ("wine", "VVV", 4),
    ("wine", "VVV", 5),
}


DATASETS = {
    name: np.loadtxt(os.path.join(DATA, f"{name}.csv"), delimiter=",") for name in ("iris", "wine")
}


# Reached in the optimised build; a start collapses onto a singular covariance in the sanitizer
# build, whose different rounding takes EM down another path.
BUILD_DEPENDENT = {("wine", "EVV", 5)}


def _data(name):
    return DATASETS[name]


def _case_id(row):
    return f"{row['dataset']}-{row['model']}-{row['G']}"


def _params(row):
    key = (row["dataset"], row["model"], int(row["G"]))
    marks = []
    if key in KNOWN_GAPS:
        marks.append(pytest.mark.xfail(strict=True, reason="needs mclust's hierarchical start"))
    elif key in BUILD_DEPENDENT:
        marks.append(
            pytest.mark.xfail(
                strict=False,
                raises=ValueError,
                reason="with reg_covar=0 one of the ten starts collapses in some builds (the "
                "sanitizer's -O1 rounds differently), which fails the fit",
            )
        )
    return pytest.param(row, marks=marks, id=_case_id(row))


@pytest.mark.parametrize("row", [pytest.param(r, id=_case_id(r)) for r in ROWS])
def test_parameter_counts_are_mclusts(row):
    X = _data(row["dataset"])
    gm = GaussianMixture(int(row["G"]), covariance_type=row["model"], random_state=0, max_iter=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gm.fit(X)
    assert gm._n_parameters() == int(row["npar"])


@pytest.mark.parametrize("row", [_params(r) for r in ROWS])
def test_log_likelihood_reaches_mclusts(row):
    X = _data(row["dataset"])
    gm = GaussianMixture(
        int(row["G"]),
        covariance_type=row["model"],
        n_init=10,
        random_state=0,
        reg_covar=0.0,
        tol=1e-8,
        max_iter=2000,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gm.fit(X)
    log_likelihood = gm.score(X) * len(X)
    reference = float(row["loglik"])
    assert log_likelihood >= reference - 1e-6 * abs(reference)
    # mclust's BIC convention, and scikit-learn's sign in bic().
    mclust_bic = 2 * log_likelihood - gm._n_parameters() * np.log(len(X))
    assert gm.bic(X) == pytest.approx(-mclust_bic, rel=1e-12)
    assert mclust_bic >= float(row["bic"]) - 1e-6 * abs(float(row["bic"]))
