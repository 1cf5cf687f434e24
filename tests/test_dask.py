"""Dask arrays: the fit equals the in-memory fit from the same start, on Dask's threaded
scheduler and on a real distributed.LocalCluster of process workers; lazy queries; every
init_params; bad chunks; a worker killed in the middle of a fit."""

import os
import signal
import warnings

import numpy as np
import pytest

import gaussmix
from gaussmix import GaussianMixture

from conftest import COVARIANCE_TYPES, initial_parameters, make_mixture_data

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")

RTOL = 1e-10
# Fits capped at max_iter warn as in memory; the comparisons below are what these tests check.
pytestmark = pytest.mark.filterwarnings("ignore:Best performing initialization did not converge")


def _local_cluster():
    """Two process workers with one thread each, on the loopback address."""
    return distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=":0",
        silence_logs=40,
    )


@pytest.fixture(scope="module")
def cluster_client():
    with _local_cluster() as cluster:
        with distributed.Client(cluster, set_as_default=False) as client:
            yield cluster, client


@pytest.fixture(params=["threads", pytest.param("cluster", marks=pytest.mark.distributed_cluster)])
def scheduler(request):
    """Runs the test body under Dask's threaded scheduler or the LocalCluster's client."""
    if request.param == "threads":
        with dask.config.set(scheduler="threads"):
            yield None
    else:
        _, client = request.getfixturevalue("cluster_client")
        with client.as_current(), dask.config.set(scheduler=client.get):
            yield client


def _data(n=1500, seed=0):
    X = make_mixture_data(n_samples=n, n_features=3, n_components=3, seed=seed)
    return np.random.RandomState(seed).permutation(X)


def _assert_same_model(a, b, rtol=RTOL, atol=1e-12):
    for name in ("weights_", "means_", "covariances_", "precisions_cholesky_"):
        np.testing.assert_allclose(getattr(a, name), getattr(b, name), rtol=rtol, atol=atol)
    assert a.n_iter_ == b.n_iter_
    assert a.converged_ == b.converged_
    np.testing.assert_allclose(a.lower_bounds_, b.lower_bounds_, rtol=rtol)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_fit_equals_in_memory_fit(scheduler, covariance_type):
    X = _data()
    start = initial_parameters(X, 3, covariance_type)
    params = dict(covariance_type=covariance_type, tol=1e-8, max_iter=60, **start)
    mem = GaussianMixture(3, **params).fit(X)
    dsk = GaussianMixture(3, **params).fit(da.from_array(X, chunks=(400, 3)))
    _assert_same_model(mem, dsk)
    assert dsk.n_features_in_ == 3


# mclust's models with a prior of each form: one variance, a variance per feature, a matrix.
@pytest.mark.parametrize("covariance_type", [*COVARIANCE_TYPES, "EII", "VEI", "EEV"])
def test_weights_and_prior(scheduler, covariance_type):
    X = _data(seed=1)
    w = np.random.RandomState(1).uniform(0, 3, size=len(X))
    stored_as = covariance_type if covariance_type in COVARIANCE_TYPES else "full"
    start = initial_parameters(X, 3, stored_as, seed=1)
    params = dict(covariance_type=covariance_type, tol=1e-8, max_iter=40, prior="default", **start)
    mem = GaussianMixture(3, **params).fit(X, sample_weight=w)
    Xd = da.from_array(X, chunks=(333, 3))
    dsk = GaussianMixture(3, **params).fit(Xd, sample_weight=da.from_array(w, chunks=333))
    _assert_same_model(mem, dsk)
    np.testing.assert_allclose(dsk.prior_.scale, mem.prior_.scale, rtol=RTOL)
    # A NumPy weight vector is chunked like X.
    again = GaussianMixture(3, **params).fit(Xd, sample_weight=w)
    _assert_same_model(mem, again)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_missing_values(covariance_type):
    X = _data(seed=2)
    holes = np.random.RandomState(2).uniform(size=X.shape) < 0.15
    X[holes] = np.nan
    start = initial_parameters(np.nan_to_num(X), 3, covariance_type, seed=2)
    params = dict(
        covariance_type=covariance_type, tol=1e-8, max_iter=40, missing="marginalize", **start
    )
    mem = GaussianMixture(3, **params).fit(X)
    dsk = GaussianMixture(3, **params).fit(da.from_array(X, chunks=(500, 3)))
    _assert_same_model(mem, dsk)
    np.testing.assert_allclose(
        dsk.score_samples(da.from_array(X, chunks=500)).compute(),
        mem.score_samples(X),
        rtol=1e-12,
        atol=1e-12,
    )


@pytest.mark.parametrize("init_params", ["kmeans", "k-means++", "random", "random_from_data"])
@pytest.mark.parametrize("covariance_type", ["full", "tied"])
def test_every_init_then_the_same_em(init_params, covariance_type):
    """Each start is made on the chunks; EM from it is the in-memory EM from it. The k-means
    starts are as good as the in-memory ones."""
    X = _data(seed=3)
    Xd = da.from_array(X, chunks=(450, 3))
    kw = dict(covariance_type=covariance_type, init_params=init_params, random_state=0)
    start = GaussianMixture(3, max_iter=0, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start.fit(Xd)
    # Same seed, same chunking: the same start.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        again = GaussianMixture(3, max_iter=0, **kw).fit(Xd)
    np.testing.assert_array_equal(start.means_, again.means_)
    from_start = dict(
        weights_init=start.weights_, means_init=start.means_, precisions_init=start.precisions_
    )
    mem = GaussianMixture(3, covariance_type=covariance_type, tol=1e-8, **from_start).fit(X)
    dsk = GaussianMixture(3, **kw, tol=1e-8).fit(Xd)
    _assert_same_model(mem, dsk)
    if init_params in ("kmeans", "k-means++"):
        # As good a start as the in-memory seeding's: EM reaches the same optimum.
        in_memory = GaussianMixture(3, **kw, tol=1e-8).fit(X)
        assert dsk.lower_bound_ >= in_memory.lower_bound_ - 1e-3


def test_hierarchical_start_is_the_in_memory_one():
    """'hc' fetches its rows (all of them here, under 2000) and agglomerates them on the client:
    the in-memory start, and with weights the same start from the same rows."""
    X = _data(seed=8)
    Xd = da.from_array(X, chunks=(400, 3))
    kw = dict(init_params="hc", random_state=0, tol=1e-8)
    _assert_same_model(GaussianMixture(3, **kw).fit(X), GaussianMixture(3, **kw).fit(Xd))
    w = np.random.RandomState(8).randint(1, 4, size=len(X)).astype(float)
    mem = GaussianMixture(3, **kw).fit(X, sample_weight=w)
    _assert_same_model(mem, GaussianMixture(3, **kw).fit(Xd, sample_weight=w))
    # Restarts on Dask begin with the hierarchical start, as in memory.
    best = GaussianMixture(3, n_init=3, random_state=0, tol=1e-8).fit(Xd)
    assert best.lower_bound_ >= GaussianMixture(3, **kw).fit(X).lower_bound_ - 1e-9
    # Rows of zero weight are never agglomerated; with more than 2000 rows a subsample is.
    w[::3] = 0.0
    big = da.from_array(np.vstack([X] * 2), chunks=(700, 3))
    fitted = GaussianMixture(3, **kw).fit(big, sample_weight=np.concatenate([w, w]))
    assert fitted.converged_


def test_random_from_data_draws_the_in_memory_seeds():
    X = _data(seed=4)
    kw = dict(init_params="random_from_data", random_state=5, tol=1e-8)
    mem = GaussianMixture(3, **kw).fit(X)
    dsk = GaussianMixture(3, **kw).fit(da.from_array(X, chunks=(300, 3)))
    _assert_same_model(mem, dsk)


def test_weighted_seeds_avoid_zero_weight_rows():
    X = _data(seed=5)
    w = np.ones(len(X))
    w[::2] = 0.0
    Xd = da.from_array(X, chunks=(250, 3))
    for init in ("random_from_data", "k-means++"):
        gm = GaussianMixture(3, init_params=init, max_iter=0, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gm.fit(Xd, sample_weight=w)
        allowed = X[w > 0]
        for mean in gm.means_:
            assert np.min(np.abs(allowed - mean).sum(axis=1)) < 1e-9


def test_n_init_keeps_the_best_and_warm_start_continues():
    X = _data(seed=6)
    Xd = da.from_array(X, chunks=(500, 3))
    kw = dict(init_params="random_from_data", random_state=0, tol=1e-6)
    single = GaussianMixture(3, n_init=1, **kw).fit(Xd)
    best = GaussianMixture(3, n_init=4, **kw).fit(Xd)
    # The first start of both is the same draw; the best of four is at least as good.
    assert best.lower_bound_ >= single.lower_bound_ - 1e-12
    _assert_same_model(best, GaussianMixture(3, n_init=4, **kw).fit(X))
    warm = GaussianMixture(3, warm_start=True, max_iter=2, tol=0.0, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        warm.fit(Xd)
        first = warm.lower_bound_
        warm.fit(Xd)
    assert warm.lower_bound_ >= first - 1e-12
    assert len(warm.lower_bounds_) == 2


def test_verbose_prints_as_in_memory(capsys):
    X = _data(seed=13)
    start = initial_parameters(X, 3, "full", seed=13)
    kw = dict(verbose=1, verbose_interval=1, tol=1e-6, **start)
    GaussianMixture(3, **kw).fit(X)
    in_memory = capsys.readouterr().out
    GaussianMixture(3, **kw).fit(da.from_array(X, chunks=(500, 3)))
    assert capsys.readouterr().out == in_memory
    assert "Iteration 2" in in_memory


def test_queries_are_lazy_and_equal_in_memory(scheduler):
    X = _data(seed=7)
    gm = GaussianMixture(3, random_state=0).fit(X)
    Xd = da.from_array(X, chunks=(400, 3))
    for name in ("predict", "predict_proba", "score_samples"):
        lazy = getattr(gm, name)(Xd)
        assert isinstance(lazy, da.Array)
        assert lazy.npartitions == Xd.npartitions
        np.testing.assert_allclose(lazy.compute(), getattr(gm, name)(X), rtol=1e-13)
    assert gm.score(Xd) == pytest.approx(gm.score(X), rel=1e-13)
    assert gm.bic(Xd) == pytest.approx(gm.bic(X), rel=1e-13)
    assert gm.aic(Xd) == pytest.approx(gm.aic(X), rel=1e-13)
    labels = GaussianMixture(3, random_state=0).fit_predict(Xd)
    assert isinstance(labels, da.Array) and labels.compute().shape == (len(X),)


def test_float32_chunks_and_column_chunks():
    X = _data(seed=8)
    start = initial_parameters(X, 3, "full", seed=8)
    X32 = X.astype(np.float32)
    mem = GaussianMixture(3, tol=1e-8, **start).fit(X32)
    # Column chunks are rechunked to whole rows.
    dsk = GaussianMixture(3, tol=1e-8, **start).fit(da.from_array(X32, chunks=(400, 2)))
    # float32 products summed in another order: agreement to float32's precision (the
    # precision factors of a thin component amplify it, so they are not compared).
    for name in ("weights_", "means_", "covariances_"):
        np.testing.assert_allclose(getattr(mem, name), getattr(dsk, name), rtol=1e-4, atol=1e-6)
    assert dsk.lower_bound_ == pytest.approx(mem.lower_bound_, rel=1e-5)
    assert dsk.score_samples(da.from_array(X32, chunks=(400, 1))).dtype == np.float32


def test_empty_and_tiny_chunks_change_nothing():
    X = _data(seed=9)
    start = initial_parameters(X, 3, "diag", seed=9)
    kw = dict(covariance_type="diag", tol=1e-8, **start)
    mem = GaussianMixture(3, **kw).fit(X)
    Xd = da.from_array(X, chunks=((2, 0, 698, 1, 799), (3,)))
    assert 0 in Xd.chunks[0] and 1 in Xd.chunks[0]
    _assert_same_model(mem, GaussianMixture(3, **kw).fit(Xd))


def test_select_model_on_dask():
    X = _data(seed=10)
    Xd = da.from_array(X, chunks=(500, 3))
    kw = dict(n_components=[1, 2, 3], covariance_types=["full", "diag"], random_state=0)
    res = gaussmix.select_model(Xd, init_params="random_from_data", **kw)
    mem = gaussmix.select_model(X, init_params="random_from_data", **kw)
    np.testing.assert_allclose(res.table["bic"], mem.table["bic"], rtol=1e-9)
    assert res.best_estimator_.n_components == 3


@pytest.mark.distributed_cluster
def test_bad_chunks_raise_on_the_client_and_leave_the_cluster_usable(cluster_client):
    _, client = cluster_client
    X = _data(seed=11)
    bad = X.copy()
    bad[1234, 1] = np.nan
    with client.as_current(), dask.config.set(scheduler=client.get):
        Xd = da.from_array(bad, chunks=(500, 3))
        with pytest.raises(
            ValueError, match=r"Input X contains NaN.*chunk 2 \(rows 1000 to 1500\)"
        ):
            GaussianMixture(3).fit(Xd)
        inf = X.copy()
        inf[3, 0] = np.inf
        with pytest.raises(ValueError, match="infinity"):
            GaussianMixture(3, missing="marginalize").fit(da.from_array(inf, chunks=500))
        with pytest.raises(ValueError, match="negative"):
            GaussianMixture(3).fit(da.from_array(X, chunks=500), sample_weight=-np.ones(len(X)))
        with pytest.raises(ValueError, match="n_samples >= n_components"):
            GaussianMixture(5).fit(da.from_array(X[:4], chunks=2))
        gm = GaussianMixture(3, random_state=0).fit(da.from_array(X, chunks=500))
        with pytest.raises(ValueError, match="features"):
            gm.predict(da.from_array(X[:, :2], chunks=500))
        holes = X.copy()
        holes[:, 2] = np.nan
        with pytest.raises(ValueError, match=r"no observed value in feature\(s\) \[2\]"):
            GaussianMixture(3, missing="marginalize").fit(da.from_array(holes, chunks=500))
        # The cluster still works.
        assert client.submit(sum, [1, 2]).result() == 3
        assert gm.score(da.from_array(X, chunks=500)) == pytest.approx(gm.score(X), rel=1e-12)


# Killing a worker leaves distributed's sockets to that process for the garbage collector.
@pytest.mark.distributed_cluster
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_worker_killed_mid_fit_gives_the_undisturbed_fit():
    """A worker process dies during a fit; Dask recomputes its chunks on the other worker and
    the fit is the undisturbed one. (A cluster of its own: the killed worker is not back.)
    The worker is killed from the fit's own iteration callback, after the fifth of its 40
    iterations, so the kill lands inside the fit whatever the machine's speed."""
    X = make_mixture_data(n_samples=60000, n_features=6, n_components=4, seed=12)
    start = initial_parameters(X, 4, "full", seed=12)
    kw = dict(tol=0.0, max_iter=40, **start)
    undisturbed = GaussianMixture(4, **kw).fit(X)
    killed = []

    class KillsAWorker(GaussianMixture):
        def _verbose_init_start(self, n_init):
            pass

        def _verbose_init_end(self, lower_bound, converged):
            pass

        def _verbose_iteration(self, n_iter, lower_bound, change):
            if n_iter == 5:
                os.kill(pid, signal.SIGKILL)
                killed.append(n_iter)

    with _local_cluster() as cluster, distributed.Client(cluster, set_as_default=False) as client:
        client.wait_for_workers(2)
        pid = next(iter(client.run(os.getpid).values()))
        with client.as_current(), dask.config.set(scheduler=client.get):
            gm = KillsAWorker(4, verbose=1, **kw).fit(da.from_array(X, chunks=(5000, 6)))
        assert killed == [5] and gm.n_iter_ == 40
        assert pid not in client.run(os.getpid).values()  # the worker did die
        # The cluster still computes.
        assert client.submit(sum, [1, 2]).result() == 3
    _assert_same_model(undisturbed, gm)
