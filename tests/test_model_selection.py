"""select_model: the table matches scikit-learn's criteria, the choice is reproducible, plots work."""

import sys

import numpy as np
import pytest
from sklearn.datasets import load_iris, load_wine
from sklearn.mixture import GaussianMixture as SkGaussianMixture

import gaussmix
from gaussmix import select_model

from conftest import make_mixture_data

COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")


@pytest.fixture(scope="module")
def iris():
    return load_iris().data


@pytest.fixture(scope="module")
def wine():
    # Standardised, as one would for features on very different scales.
    X = load_wine().data
    return (X - X.mean(axis=0)) / X.std(axis=0)


def as_sklearn(gm):
    """A scikit-learn GaussianMixture holding gm's fitted parameters."""
    sk = SkGaussianMixture(gm.n_components, covariance_type=gm.covariance_type)
    for name in ("weights_", "means_", "covariances_", "precisions_", "precisions_cholesky_"):
        setattr(sk, name, getattr(gm, name))
    sk.n_features_in_ = gm.n_features_in_
    return sk


@pytest.mark.parametrize("dataset", ["iris", "wine"])
def test_selection_is_stable_across_runs_and_job_counts(request, dataset):
    X = request.getfixturevalue(dataset)
    runs = [
        select_model(X, n_components=range(1, 6), n_init=2, random_state=42, n_jobs=n_jobs)
        for n_jobs in (1, 2, 2)
    ]
    first = runs[0]
    for other in runs[1:]:
        assert other.best_params_ == first.best_params_
        np.testing.assert_array_equal(other.table, first.table)
        assert other.best_estimator_.score(X) == first.best_estimator_.score(X)
    assert len(first.table) == 5 * 4
    best = first.table[first.best_index_]
    assert best["bic"] == first.table["bic"].min()
    assert best["log_likelihood"] == pytest.approx(
        first.best_estimator_.score(X) * X.shape[0], rel=1e-12
    )


def test_iris_prefers_two_full_components_up_to_five(iris):
    # Iris has two well separated groups (setosa, and versicolor with virginica); among one to
    # five full components BIC picks two, as R's mclust does. From six components on, the
    # restarts (the hierarchical start among them) reach optima mclust's single start does not:
    # at k = 6 a log-likelihood of -30.5 against mclust's -154.4, where a cluster of setosa
    # flowers whose petal widths nearly all equal 0.2 (the data are rounded to 0.1 cm) has a
    # variance of 0.002. BIC then prefers k = 6: the data's rounding, not a sixth species.
    result = select_model(iris, n_components=range(1, 6), random_state=0, n_init=3)
    assert result.best_params_ == {"n_components": 2, "covariance_type": "full"}
    bic_full = result.table[result.table["covariance_type"] == "full"]["bic"]
    assert bic_full[0] > bic_full[1]  # one component is clearly worse than two
    wider = select_model(
        iris, n_components=[6], covariance_types=["full"], random_state=0, n_init=3
    )
    assert wider.table[0]["log_likelihood"] > -154.423642453806  # mclust's (reference data)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_criteria_match_scikit_learn(iris, covariance_type):
    result = select_model(
        iris, n_components=[3], covariance_types=[covariance_type], random_state=1
    )
    row = result.table[0]
    sk = as_sklearn(result.best_estimator_)
    assert row["n_parameters"] == sk._n_parameters()
    assert row["bic"] == pytest.approx(sk.bic(iris), rel=1e-10)
    assert row["aic"] == pytest.approx(sk.aic(iris), rel=1e-10)
    assert row["log_likelihood"] == pytest.approx(sk.score(iris) * iris.shape[0], rel=1e-10)
    assert result.best_estimator_.bic(iris) == pytest.approx(sk.bic(iris), rel=1e-10)
    assert result.best_estimator_.aic(iris) == pytest.approx(sk.aic(iris), rel=1e-10)
    # ICL adds twice the entropy of the classification to BIC.
    resp = sk.predict_proba(iris)
    entropy = -np.sum(resp[resp > 0] * np.log(resp[resp > 0]))
    assert row["icl"] == pytest.approx(row["bic"] + 2 * entropy, rel=1e-10)
    assert row["icl"] >= row["bic"]


@pytest.mark.parametrize("criterion", ["bic", "aic", "icl"])
def test_best_model_minimises_the_chosen_criterion(wine, criterion):
    result = select_model(wine, n_components=range(1, 5), criterion=criterion, random_state=0)
    assert result.criterion == criterion
    assert result.best_index_ == int(np.argmin(result.table[criterion]))
    row = result.table[result.best_index_]
    assert result.best_estimator_.n_components == row["n_components"]
    assert result.best_estimator_.covariance_type == row["covariance_type"]


def test_aic_prefers_at_least_as_many_parameters_as_bic(wine):
    by_bic = select_model(wine, n_components=range(1, 6), random_state=0)
    by_aic = select_model(wine, n_components=range(1, 6), criterion="aic", random_state=0)
    np.testing.assert_array_equal(by_bic.table, by_aic.table)
    assert (
        by_aic.table[by_aic.best_index_]["n_parameters"]
        >= by_bic.table[by_bic.best_index_]["n_parameters"]
    )


def test_integer_weights_equal_repeated_rows(iris):
    counts = np.random.RandomState(0).randint(1, 4, size=iris.shape[0])
    weighted = select_model(iris, n_components=range(1, 4), sample_weight=counts, random_state=7)
    repeated = select_model(
        np.repeat(iris, counts, axis=0), n_components=range(1, 4), random_state=7
    )
    for name in ("log_likelihood", "bic", "aic", "icl"):
        np.testing.assert_allclose(weighted.table[name], repeated.table[name], rtol=1e-8)
    assert weighted.best_params_ == repeated.best_params_


def test_table_forms(iris):
    result = select_model(iris, n_components=[1, 2], covariance_types="diag", random_state=0)
    assert result.table.dtype.names == (
        "n_components",
        "covariance_type",
        "log_likelihood",
        "n_parameters",
        "bic",
        "aic",
        "icl",
        "converged",
        "n_iter",
        "error",
    )
    rows = result.to_dicts()
    assert [r["n_components"] for r in rows] == [1, 2]
    assert all(r["covariance_type"] == "diag" and r["converged"] and r["error"] == "" for r in rows)
    frame = result.to_pandas()
    assert list(frame.columns) == list(result.table.dtype.names)
    np.testing.assert_array_equal(frame["bic"].to_numpy(), result.table["bic"])


def test_failed_fits_are_recorded_not_fatal():
    X = np.random.RandomState(0).normal(size=(6, 2))
    result = select_model(X, n_components=[1, 2, 8], covariance_types=["spherical"], random_state=0)
    assert result.table["error"][2].startswith("Expected n_samples >= n_components")
    assert np.isinf(result.table["bic"][2]) and np.isnan(result.table["log_likelihood"][2])
    assert result.best_params_["n_components"] in (1, 2)


def test_extra_parameters_reach_every_fit(iris):
    result = select_model(
        iris,
        n_components=[2],
        covariance_types=["full"],
        random_state=0,
        prior="default",
        reg_covar=1e-4,
    )
    gm = result.best_estimator_
    assert gm.reg_covar == 1e-4 and hasattr(gm, "prior_")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(criterion="loglik"), "criterion"),
        (dict(n_components=[0, 2]), "n_components"),
        (dict(n_components=[]), "n_components"),
        (dict(n_components=[1.5]), "n_components"),
        (dict(covariance_types=["full", "banded"]), "covariance_types"),
        (dict(n_jobs=0), "n_jobs"),
        (dict(n_init=0), "n_init"),
        (dict(random_state=0, covariance_type="full"), "set by select_model"),
        (dict(sample_weight=-np.ones(150)), "non-negative"),
    ],
    ids=[
        "criterion",
        "zero-components",
        "no-components",
        "float-components",
        "cov-type",
        "n_jobs",
        "n_init",
        "reserved",
        "weights",
    ],
)
def test_bad_arguments_raise(iris, kwargs, message):
    with pytest.raises(ValueError, match=message):
        select_model(iris, **kwargs)


def test_plot_draws_one_line_per_covariance_type(iris):
    import matplotlib  # in the test extra: this test always runs

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    result = select_model(
        iris, n_components=range(1, 4), covariance_types=["full", "diag"], random_state=0
    )
    fig, ax = plt.subplots()
    try:
        assert result.plot(ax=ax) is ax
        lines = {line.get_label(): line for line in ax.get_lines()}
        assert set(lines) == {"full", "diag", "selected"}
        full = result.table[result.table["covariance_type"] == "full"]
        np.testing.assert_array_equal(lines["full"].get_xdata(), [1, 2, 3])
        np.testing.assert_allclose(lines["full"].get_ydata(), full["bic"])
        ax.clear()
        result.plot(ax=ax, criterion="icl")
        np.testing.assert_allclose(
            {line.get_label(): line for line in ax.get_lines()}["diag"].get_ydata(),
            result.table[result.table["covariance_type"] == "diag"]["icl"],
        )
    finally:
        plt.close(fig)


@pytest.mark.parametrize("module, method", [("matplotlib", "plot"), ("pandas", "to_pandas")])
def test_optional_dependencies_missing(iris, monkeypatch, module, method):
    result = select_model(iris, n_components=[1], covariance_types=["full"], random_state=0)
    for name in list(sys.modules):
        if name == module or name.startswith(module + "."):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, module, None)  # makes `import module` raise ImportError
    if module == "matplotlib":
        monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=f"needs {module}"):
        getattr(result, method)()


def test_select_model_is_exported():
    assert gaussmix.select_model is select_model
    assert "select_model" in gaussmix.__all__ and "ModelSelectionResult" in gaussmix.__all__


def test_more_components_than_distinct_points_is_degenerate_not_chosen():
    # 5 distinct points repeated: 6 or more components would each collapse onto a point.
    X = np.repeat(np.random.RandomState(0).normal(size=(5, 2)) * 10, 40, axis=0)
    result = select_model(
        X, n_components=[2, 5, 6, 7], covariance_types="spherical", random_state=0
    )
    errors = dict(zip(result.table["n_components"], result.table["error"]))
    assert errors[6].startswith("degenerate: 6 components for 5 distinct points")
    assert errors[7].startswith("degenerate")
    assert result.best_params_["n_components"] in (2, 5)
    assert np.isinf(result.table["bic"][2:]).all()


def test_best_estimator_uses_every_core_and_table_prints_readably():
    X = make_mixture_data(n_samples=300, n_features=2, seed=1)
    result = select_model(
        X, n_components=[1, 2, 3], covariance_types=["full", "diag"], random_state=0
    )
    assert result.best_estimator_.n_threads is None
    text = repr(result)
    lines = text.splitlines()
    assert lines[0].startswith("ModelSelectionResult(criterion='bic', best={")
    assert lines[1].split()[:3] == ["k", "covariance_type", "log_likelihood"]
    assert len(lines) == 2 + len(result.table)
    marked = [line for line in lines[2:] if line.startswith("*")]
    assert len(marked) == 1
    best = result.best_params_
    assert marked[0].split()[1:3] == [str(best["n_components"]), best["covariance_type"]]
