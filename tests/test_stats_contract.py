"""The seam's contract (stats.hpp): what each field of SufficientStats holds, that statistics of
disjoint rows merge in any grouping to the same M-step, and that they pickle and merge in other
processes (as Dask workers and partial_fit will use them)."""

import pickle
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from gaussmix import GaussianMixture, _core

from conftest import COVARIANCE_TYPES, initial_parameters, make_mixture_data


def start_mixture(X, covariance_type, k=3):
    gm = GaussianMixture(
        k, covariance_type=covariance_type, max_iter=0, **initial_parameters(X, k, covariance_type)
    ).fit(X)
    return gm._mixture()


def reference_fields(X, w, mixture, covariance_type):
    """Every field as stats.hpp defines it, in plain numpy from the responsibilities."""
    log_prob = _core.log_prob(X, mixture, "weighted_log_prob", 1)
    top = log_prob.max(axis=1, keepdims=True)
    resp = np.exp(log_prob - top)
    total = resp.sum(axis=1, keepdims=True)
    log_density = np.log(total[:, 0]) + top[:, 0]
    r = resp / total * w[:, None]
    means = np.asarray(mixture.means)
    k, n = means.shape
    if covariance_type == "tied":
        centre = np.average(means, axis=0, weights=np.asarray(mixture.weights))
        shift = np.repeat(centre[None], k, axis=0)
    else:
        shift = means
    s1 = np.stack([r[:, c] @ (X - shift[c]) for c in range(k)])
    if covariance_type == "full":
        s2 = np.vstack(
            [np.tril(((X - shift[c]) * r[:, c : c + 1]).T @ (X - shift[c])) for c in range(k)]
        )
    elif covariance_type == "tied":
        d = X - shift[0]
        s2 = np.tril((d * w[:, None]).T @ d)
    elif covariance_type == "diag":
        s2 = np.stack([r[:, c] @ (X - shift[c]) ** 2 for c in range(k)])
    else:
        s2 = np.stack([[r[:, c] @ ((X - shift[c]) ** 2).sum(axis=1)] for c in range(k)])
    return {
        "n_k": r.sum(axis=0),
        "s1": s1,
        "s2": s2,
        "shift": shift,
        "log_likelihood": w @ log_density,
        "weight_sum": w.sum(),
    }


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_fields_hold_what_the_contract_says(covariance_type):
    X = make_mixture_data(n_samples=900, n_features=4, seed=2, offset=50.0)
    w = np.random.RandomState(0).uniform(0.2, 2.0, len(X))
    mixture = start_mixture(X, covariance_type)
    stats = _core.accumulate(X, w, mixture, _core.PassOptions(2))
    ref = reference_fields(X, w, mixture, covariance_type)
    assert_allclose(stats.shift, ref["shift"], rtol=1e-12)
    assert_allclose(stats.n_k, ref["n_k"], rtol=1e-10)
    scale = np.abs(ref["s2"]).max()
    assert_allclose(stats.s1, ref["s1"], rtol=1e-9, atol=1e-9 * np.sqrt(scale * w.sum()))
    assert_allclose(stats.s2, ref["s2"], rtol=1e-9, atol=1e-10 * scale)
    assert stats.log_likelihood == pytest.approx(ref["log_likelihood"], rel=1e-12)
    assert stats.weight_sum == pytest.approx(ref["weight_sum"], rel=1e-14)
    assert stats.n_samples == len(X)
    if covariance_type in ("full", "tied"):
        # Above the diagonal: exactly zero, for the EM pass and the initialisation passes alike.
        n = X.shape[1]
        labels = np.arange(len(X)) % 3
        for st in (
            stats,
            _core.moments_from_labels(
                X, w, labels, 3, mixture.covariance_type, _core.PassOptions(1)
            ),
        ):
            for block in np.asarray(st.s2).reshape(-1, n, n):
                assert_array_equal(np.triu(block, 1), 0.0)


def chunk_stats(X, w, mixture, bounds):
    return [_core.accumulate(X[a:b], w[a:b], mixture, _core.PassOptions(1)) for a, b in bounds]


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_merging_in_any_grouping_gives_the_same_m_step(covariance_type):
    X = make_mixture_data(n_samples=1200, n_features=3, seed=4)
    w = np.random.RandomState(1).uniform(0.5, 1.5, len(X))
    mixture = start_mixture(X, covariance_type)
    whole = _core.maximize(_core.accumulate(X, w, mixture, _core.PassOptions(1)), 1e-6)
    parts = chunk_stats(X, w, mixture, [(0, 100), (100, 555), (555, 560), (560, 1200)])
    groupings = [
        ((parts[0] + parts[1]) + parts[2]) + parts[3],  # left to right
        parts[0] + (parts[1] + (parts[2] + parts[3])),  # right to left
        (parts[3] + parts[1]) + (parts[2] + parts[0]),  # shuffled pairs
    ]
    for merged in groupings:
        assert merged.n_samples == len(X)
        new = _core.maximize(merged, 1e-6)
        assert_allclose(new.weights, whole.weights, rtol=1e-12)
        assert_allclose(new.means, whole.means, rtol=1e-11, atol=1e-12)
        assert_allclose(new.covariances, whole.covariances, rtol=1e-9, atol=1e-13)


def test_merge_refuses_different_shifts_types_and_shapes():
    X = make_mixture_data(n_samples=300, n_features=3, seed=1)
    a = _core.accumulate(X, np.empty(0), start_mixture(X, "full"), _core.PassOptions(1))
    other_shift = _core.accumulate(
        X, np.empty(0), start_mixture(X[::-1].copy(), "full"), _core.PassOptions(1)
    )
    with pytest.raises(ValueError, match="different shifts"):
        a.merge(other_shift)
    with pytest.raises(ValueError, match="types or shapes"):
        a.merge(_core.accumulate(X, np.empty(0), start_mixture(X, "diag"), _core.PassOptions(1)))


def test_pickle_round_trip_is_exact():
    X = make_mixture_data(n_samples=400, n_features=3, seed=3)
    stats = _core.accumulate(X, np.empty(0), start_mixture(X, "full"), _core.PassOptions(1))
    back = pickle.loads(pickle.dumps(stats))
    for field in ("n_k", "s1", "s2", "shift"):
        assert_array_equal(getattr(back, field), getattr(stats, field))
    assert (back.log_likelihood, back.weight_sum, back.n_samples) == (
        stats.log_likelihood,
        stats.weight_sum,
        stats.n_samples,
    )
    assert back.covariance_type == stats.covariance_type


def test_pickled_stats_with_wrong_shapes_are_refused():
    X = make_mixture_data(n_samples=200, n_features=3, seed=3)
    stats = _core.accumulate(X, np.empty(0), start_mixture(X, "diag"), _core.PassOptions(1))
    state = list(stats.__getstate__())
    state[3] = np.zeros((2, 2))  # s2 of the wrong shape, as a damaged or foreign pickle would hold
    fresh = _core.SufficientStats.__new__(_core.SufficientStats)
    with pytest.raises(ValueError, match="inconsistent shapes"):
        fresh.__setstate__(tuple(state))


def _worker_stats(args):
    # Runs in another process: accumulates its chunk and returns the pickled statistics.
    X, w, covariance_type = args
    return _core.accumulate(X, w, start_mixture_for_worker(covariance_type), _core.PassOptions(1))


_WORKER_DATA = make_mixture_data(n_samples=900, n_features=3, seed=6)


def start_mixture_for_worker(covariance_type):
    return start_mixture(_WORKER_DATA, covariance_type)


@pytest.mark.parametrize("covariance_type", ["full", "tied"])
def test_stats_from_other_processes_merge_to_the_whole_pass(covariance_type):
    X = _WORKER_DATA
    w = np.ones(len(X))
    chunks = [(X[a:b], w[a:b], covariance_type) for a, b in [(0, 300), (300, 650), (650, 900)]]
    with ProcessPoolExecutor(max_workers=2) as pool:
        parts = list(pool.map(_worker_stats, chunks))
    merged = parts[0] + parts[1] + parts[2]
    whole = _core.accumulate(X, w, start_mixture(X, covariance_type), _core.PassOptions(1))
    assert_allclose(merged.s2, whole.s2, rtol=1e-11, atol=1e-9)
    assert_allclose(merged.n_k, whole.n_k, rtol=1e-12)
    assert merged.log_likelihood == pytest.approx(whole.log_likelihood, rel=1e-13)
