"""Pruned label and score queries of full mixtures with 32 or more features (56 or more in float32,
whose full log-densities are cheaper): a bound from the leading features rules components out, and only the others get their whole log-density. Checked
against a plain numpy pass: the labels exactly, the scores to rounding, every ruled-out term
provably irrelevant, and the blocks where pruning does not pay computed in full."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from gaussmix import GaussianMixture, _core

from conftest import full_core_mixture as full_mixture
from conftest import sample_core_mixture as sample

# score_samples drops terms more than this far below their row's largest (log_sum_exp_rows).
SCORE_CUT = {np.float64: 40.0, np.float32: 20.0}

# The fewest features whose queries are pruned, per precision (pruning_features).
MIN_PRUNED_FEATURES = {np.float64: 32, np.float32: 56}


def expected_h(n, output, dtype):
    """Leading features of the bound: a quarter, at least 16 for scores; 0 (no pruning) below
    the precision's minimum."""
    if n < MIN_PRUNED_FEATURES[dtype]:
        return 0
    return max(n // 4, 16) if output == "score_samples" else n // 4


def random_mixture(n, k, spread, seed, weights=None):
    """Random correlated covariances of unit scale; means drawn with scale `spread`."""
    rng = np.random.default_rng(seed)
    means = rng.normal(scale=spread, size=(k, n))
    covs = []
    for _ in range(k):
        a = rng.normal(size=(n, n)) / np.sqrt(n)
        covs.append(a @ a.T + 0.5 * np.eye(n))
    return full_mixture(np.full(k, 1.0 / k) if weights is None else weights, means, covs)


def reference_log_prob(X, mixture):
    """log weight_c + log N(x | c) in plain float64 numpy, centred differences."""
    means = np.asarray(mixture.means)
    k, n = means.shape
    chol = np.asarray(mixture.precisions_cholesky).reshape(k, n, n)
    X = np.asarray(X, dtype=np.float64)
    out = np.empty((len(X), k))
    with np.errstate(divide="ignore"):
        log_w = np.log(np.asarray(mixture.weights))
    for c in range(k):
        y = (X - means[c]) @ chol[c]
        out[:, c] = (
            log_w[c]
            + np.log(np.diag(chol[c])).sum()
            - 0.5 * n * np.log(2 * np.pi)
            - 0.5 * (y**2).sum(axis=1)
        )
    return out


def reference_score(lp):
    top = lp.max(axis=1)
    return top + np.log(np.exp(lp - top[:, None]).sum(axis=1))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n,k", [(32, 4), (40, 12), (56, 8), (64, 32)])
def test_labels_and_scores_match_reference(n, k, dtype):
    mixture = random_mixture(n, k, spread=5.0, seed=n + k)
    X = sample(mixture, 3000, seed=1).astype(dtype)
    ref = reference_log_prob(X, mixture)
    assert_array_equal(_core.log_prob(X, mixture, "predict", 2)[:, 0], ref.argmax(axis=1))
    rtol = 1e-10 if dtype == np.float64 else 2e-5
    assert_allclose(
        _core.log_prob(X, mixture, "score_samples", 2)[:, 0], reference_score(ref), rtol=rtol
    )
    # The first block ruled most of its terms out: the test covers the pruned path (or, below
    # the precision's minimum, computed every term).
    for output in ("predict", "score_samples"):
        h, pass_prunes, pruned, lp = _core.pruned_query_block(X, mixture, output)
        if expected_h(n, output, dtype) == 0:
            assert (h, pruned) == (0, False)
            assert np.isfinite(lp).all()
        else:
            assert (h, pass_prunes, pruned) == (expected_h(n, output, dtype), True, True)
            assert np.isinf(lp).mean() > 0.5


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("output", ["predict", "score_samples"])
def test_only_terms_that_cannot_matter_are_ruled_out(output, dtype):
    # Overlapping enough that many rows keep several components, apart enough to prune (scores
    # keep the terms within the score cut, so they need clusters further apart).
    n = 48 if dtype == np.float64 else 64
    mixture = random_mixture(n, 16, spread=2.0 if output == "predict" else 2.5, seed=3)
    X = sample(mixture, 1024, seed=4).astype(dtype)
    h, _, pruned, lp = _core.pruned_query_block(X, mixture, output)
    assert (h, pruned) == (expected_h(n, output, dtype), True)
    ref = reference_log_prob(X, mixture)
    top = ref.max(axis=1, keepdims=True)
    computed = np.isfinite(lp)
    # Every row has its largest computed, and what was computed is right.
    assert computed[np.arange(len(X)), ref.argmax(axis=1)].all()
    rtol = 1e-10 if dtype == np.float64 else 2e-5
    assert_allclose(lp[computed], ref[computed], rtol=rtol, atol=rtol * np.abs(top).max())
    # A ruled-out term lies below its row's largest, by more than the score cut for scores.
    cut = 0.0 if output == "predict" else SCORE_CUT[dtype]
    margin = 1e-6 * np.abs(top).max()
    assert (ref[~computed] < (top - cut + margin).repeat(ref.shape[1], axis=1)[~computed]).all()
    # Some rows kept more than one component, and many terms were ruled out.
    assert (computed.sum(axis=1) > 1).any()
    assert 0.3 < (~computed).mean()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("output", ["predict", "score_samples"])
def test_a_bound_just_reaching_the_threshold_keeps_its_component(output, dtype):
    # Unit covariances, n = 32 (64 in float32), so the bound takes the first h features. Component 1 matches each
    # row on those (bound 0: the largest, so it is computed first), component 0 is off there by
    # delta^2 but exact on the other features, so its bound equals its value; component 1 is off
    # by a^2 on the others. Component 0's value is then `gap` above (predict) or below (scores,
    # just within the cut) component 1's: a pruning rule stricter than the bound allows would
    # drop it.
    n, k = (32 if dtype == np.float64 else 64), 4
    h = expected_h(n, output, dtype)
    cut = 0.0 if output == "predict" else SCORE_CUT[dtype]
    gaps = [0.5, 1.0, 3.0] if output == "predict" else [-cut + 0.5, -cut + 1.0]
    means = np.zeros((k, n))
    means[2:] = 50.0  # two far components, ruled out
    for gap in gaps:
        a2 = 8.0
        delta2 = a2 - 2 * gap  # value_0 - value_1 = (a2 - delta2) / 2 = gap
        means[0, 0] = np.sqrt(delta2)
        means[1, h] = np.sqrt(a2)
        mixture = full_mixture(np.full(k, 1 / k), means, [np.eye(n)] * k)
        X = np.zeros((1, n), dtype=dtype)
        got_h, _, pruned, lp = _core.pruned_query_block(X, mixture, output)
        assert (got_h, pruned) == (h, True)
        ref = reference_log_prob(X, mixture)
        assert np.isfinite(lp[:, :2]).all(), (gap, lp[:, :2])
        assert np.isinf(lp[:, 2:]).all()
        assert_allclose(lp[:, :2], ref[:, :2], rtol=1e-6)
        if output == "predict":
            assert_array_equal(_core.log_prob(X, mixture, "predict", 1)[:, 0], 0)


def test_overlapping_components_are_computed_in_full():
    # Identical means and near-identical shapes: no bound rules anything out.
    rng = np.random.default_rng(5)
    n, k = 32, 8
    covs = [np.eye(n) * (1.0 + 0.01 * c) for c in range(k)]
    mixture = full_mixture(np.full(k, 1.0 / k), np.zeros((k, n)), covs)
    X = rng.normal(size=(2500, n))
    for output in ("predict", "score_samples"):
        h, pass_prunes, pruned, _ = _core.pruned_query_block(X, mixture, output)
        assert (pass_prunes, pruned) == (False, False)
    ref = reference_log_prob(X, mixture)
    assert_array_equal(_core.log_prob(X, mixture, "predict", 2)[:, 0], ref.argmax(axis=1))
    assert_allclose(
        _core.log_prob(X, mixture, "score_samples", 2)[:, 0], reference_score(ref), rtol=1e-12
    )


def test_ties_and_empty_components_match_reference():
    # Component 3 duplicates component 1 (the lower index wins a tie, as numpy's argmax picks),
    # and component 0 has weight 0 (log weight -inf, never the label).
    base = random_mixture(32, 6, spread=5.0, seed=7)
    means = np.asarray(base.means).copy()
    covs = list(np.asarray(base.covariances).reshape(6, 32, 32))
    means[3] = means[1]
    covs[3] = covs[1]
    weights = np.array([0.0, 0.2, 0.2, 0.2, 0.2, 0.2])
    mixture = full_mixture(weights, means, covs)
    X = sample(mixture, 2000, seed=8)
    ref = reference_log_prob(X, mixture)
    labels = _core.log_prob(X, mixture, "predict", 2)[:, 0]
    assert_array_equal(labels, ref.argmax(axis=1))
    assert not np.isin(labels, [0, 3]).any()
    assert_allclose(
        _core.log_prob(X, mixture, "score_samples", 2)[:, 0], reference_score(ref), rtol=1e-10
    )
    assert _core.pruned_query_block(X, mixture, "predict")[1:3] == (True, True)


def test_mixed_blocks_do_not_depend_on_thread_count():
    # Blocks of clustered rows (pruned) and of rows midway between components (some in full).
    mixture = random_mixture(32, 8, spread=5.0, seed=9)
    means = np.asarray(mixture.means)
    rng = np.random.default_rng(10)
    X = np.vstack(
        [
            sample(mixture, 3000, seed=11),
            (means[rng.integers(0, 8, 700)] + means[rng.integers(0, 8, 700)]) / 2,
            sample(mixture, 2300, seed=12),
        ]
    )
    ref = reference_log_prob(X, mixture)
    results = {}
    for output in ("predict", "score_samples"):
        results[output] = [_core.log_prob(X, mixture, output, t) for t in (1, 2, 3)]
        for r in results[output][1:]:
            assert_array_equal(r, results[output][0])
    assert_array_equal(results["predict"][0][:, 0], ref.argmax(axis=1))
    assert_allclose(results["score_samples"][0][:, 0], reference_score(ref), rtol=1e-10)
    # The pass prunes, and the midway rows fall back to the full computation block by block.
    assert _core.pruned_query_block(X, mixture, "predict")[1]
    assert not _core.pruned_query_block(X[3000:4024], mixture, "predict")[2]


def test_other_mixtures_are_not_pruned():
    rng = np.random.default_rng(14)
    means = rng.normal(size=(3, 64))
    others = [
        random_mixture(31, 3, spread=5.0, seed=0),  # too few features for the bound to pay
        random_mixture(64, 3, spread=5.0, seed=0),  # too few components
        _core.Mixture.from_covariances(
            _core.CovarianceType.diag, np.full(4, 0.25), means[[0, 1, 2, 0]], np.ones((4, 64))
        ),
        _core.Mixture.from_covariances(
            _core.CovarianceType.tied, np.full(3, 1 / 3), means, np.eye(64)
        ),
    ]
    for mixture in others:
        n = np.asarray(mixture.means).shape[1]
        assert _core.pruned_query_block(np.zeros((4, n)), mixture, "predict")[0] == 0


def test_estimator_queries_agree_with_predict_proba():
    rng = np.random.default_rng(13)
    centres = rng.normal(scale=3.0, size=(10, 40))
    X = centres[rng.integers(0, 10, 4000)] + rng.normal(size=(4000, 40))
    gm = GaussianMixture(10, random_state=0).fit(X)
    proba = gm.predict_proba(X)
    assert_array_equal(gm.predict(X), proba.argmax(axis=1))
    lp = _core.log_prob(X, gm._mixture(), "weighted_log_prob", 2)
    assert_allclose(gm.score_samples(X), reference_score(lp), rtol=1e-10)
