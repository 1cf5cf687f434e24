"""Degenerate data: duplicates, constant features, more components than distinct points, emptied
components, data far from the origin and at extreme scales. Each fit gives finite parameters
that score the data sensibly, or a ValueError naming the component and suggesting reg_covar."""

import numpy as np
import pytest

from gaussmix import GaussianMixture, _core

from conftest import COVARIANCE_TYPES

DTYPES = (np.float64, np.float32)
TWO_BLOBS = np.vstack(
    [
        np.random.RandomState(1).normal(size=(40, 2)) * [1.0, 0.5],
        np.random.RandomState(2).normal(size=(40, 2)) * [0.7, 1.2] + [9.0, -6.0],
    ]
)
TRUTH = np.repeat([0, 1], 40)
NOT_PD = "not positive definite"


def _assert_finite_model(gm):
    for name in ("weights_", "means_", "covariances_", "precisions_", "precisions_cholesky_"):
        assert np.isfinite(getattr(gm, name)).all(), name
    np.testing.assert_allclose(gm.weights_.sum(), 1.0, rtol=1e-12)
    assert np.isfinite(gm.lower_bound_)


def _same_partition(labels, truth):
    """Labels equal the truth up to renaming the components."""
    pairs = set(zip(labels.tolist(), truth.tolist()))
    return len(pairs) == len(set(truth.tolist())) == len({a for a, _ in pairs})


def _dense_variances(gm):
    """Every component's variances as a (k, n) array, whatever the covariance type."""
    k, n = gm.means_.shape
    c = gm.covariances_
    if gm.covariance_type == "full":
        return np.array([np.diag(m) for m in c])
    if gm.covariance_type == "tied":
        return np.tile(np.diag(c), (k, 1))
    if gm.covariance_type == "diag":
        return c
    return np.repeat(c[:, None], n, axis=1)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_duplicated_points_equal_integer_weights(covariance_type, dtype):
    # Every point three times is the same data as every point with weight 3.
    init = {"means_init": TWO_BLOBS[[0, 40]]}
    repeated = GaussianMixture(2, covariance_type=covariance_type, random_state=0, **init).fit(
        np.repeat(TWO_BLOBS, 3, axis=0).astype(dtype)
    )
    weighted = GaussianMixture(2, covariance_type=covariance_type, random_state=0, **init).fit(
        TWO_BLOBS.astype(dtype), sample_weight=np.full(80, 3.0)
    )
    _assert_finite_model(repeated)
    rtol = 1e-9 if dtype == np.float64 else 1e-4
    np.testing.assert_allclose(repeated.means_, weighted.means_, rtol=rtol, atol=rtol)
    np.testing.assert_allclose(repeated.covariances_, weighted.covariances_, rtol=rtol, atol=rtol)
    assert _same_partition(repeated.predict(TWO_BLOBS), TRUTH)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_all_rows_identical(covariance_type, dtype):
    X = np.full((20, 2), 3.25, dtype=dtype)
    gm = GaussianMixture(2, covariance_type=covariance_type, random_state=0).fit(X)
    _assert_finite_model(gm)
    np.testing.assert_array_equal(gm.means_, np.full((2, 2), 3.25))
    np.testing.assert_allclose(_dense_variances(gm), 1e-6, rtol=1e-9)
    # Each component is N(x, reg_covar I): the density at x is (2 pi reg_covar)^(-n/2).
    rtol = 1e-9 if dtype == np.float64 else 1e-6  # float32 queries give float32 log-densities
    np.testing.assert_allclose(gm.score_samples(X), -np.log(2 * np.pi * 1e-6), rtol=rtol)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_identical_rows_without_reg_covar_name_the_component(covariance_type, dtype):
    X = np.full((20, 2), -1.5, dtype=dtype)
    with pytest.raises(ValueError, match=NOT_PD) as info:
        GaussianMixture(2, covariance_type=covariance_type, reg_covar=0.0, random_state=0).fit(X)
    message = str(info.value)
    assert "Increase reg_covar" in message
    assert ("tied" in message) if covariance_type == "tied" else ("Component " in message)
    assert isinstance(info.value, _core.NotPositiveDefiniteError)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_constant_feature(covariance_type, dtype):
    X = TWO_BLOBS.copy()
    X[:, 1] = 5.0
    gm = GaussianMixture(2, covariance_type=covariance_type, random_state=0).fit(X.astype(dtype))
    _assert_finite_model(gm)
    np.testing.assert_allclose(gm.means_[:, 1], 5.0, rtol=1e-12)
    if covariance_type != "spherical":  # spherical shares one variance over both features
        np.testing.assert_allclose(_dense_variances(gm)[:, 1], 1e-6, rtol=1e-6)
    assert _same_partition(gm.predict(X), TRUTH)
    assert np.isfinite(gm.score_samples(X)).all()


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_more_components_than_distinct_points(covariance_type, dtype):
    points = np.array([[0.0, 0.0], [4.0, 1.0], [-3.0, 5.0]])
    X = np.repeat(points, 10, axis=0).astype(dtype)
    gm = GaussianMixture(5, covariance_type=covariance_type, random_state=0).fit(X)
    _assert_finite_model(gm)
    used = gm.weights_ > 1e-3
    assert used.sum() == 3, gm.weights_
    np.testing.assert_allclose(np.sort(gm.weights_[used]), [1 / 3] * 3, rtol=1e-6)
    # Each distinct point is the mean of its own component.
    found = {tuple(np.round(m, 6)) for m in gm.means_[used]}
    assert found == {tuple(p) for p in points}
    # No scatter is left about those means: every covariance is reg_covar * I. (For tied
    # float32 data this needs the first moments about the common centre summed in double.)
    np.testing.assert_allclose(_dense_variances(gm)[used], 1e-6, rtol=1e-3)
    if covariance_type in ("full", "tied"):
        cov = gm.covariances_ if covariance_type == "tied" else gm.covariances_[used]
        np.testing.assert_allclose(np.linalg.eigvalsh(cov), 1e-6, rtol=1e-3)
    assert len(set(gm.predict(X).tolist())) == 3
    if covariance_type != "tied":
        # (The tied covariance pools every component's scatter, so it may stay positive
        # definite without reg_covar; the other types cannot.)
        with pytest.raises(ValueError, match="Increase reg_covar"):
            GaussianMixture(5, covariance_type=covariance_type, reg_covar=0.0, random_state=0).fit(
                X
            )


# ------------------------------------------------------------------- emptied component


def _emptying_start(covariance_type):
    """A start whose second component is so far from the data that no sample gives it any
    responsibility at all (exp underflows to exactly 0) after the first E-step."""
    precisions = {
        "full": np.stack([np.eye(2)] * 2),
        "tied": np.eye(2),
        "diag": np.ones((2, 2)),
        "spherical": np.ones(2),
    }[covariance_type]
    return {
        "weights_init": np.array([0.5, 0.5]),
        "means_init": np.array([[0.0, 0.0], [1e3, 1e3]]),
        "precisions_init": precisions,
    }


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_emptied_component_is_kept(covariance_type, dtype):
    X = np.random.RandomState(0).normal(size=(60, 2)).astype(dtype)
    gm = GaussianMixture(
        2, covariance_type=covariance_type, **_emptying_start(covariance_type)
    ).fit(X)
    _assert_finite_model(gm)
    # Kept with weight ~0. Its mean stays where it was and its covariance becomes
    # reg_covar * I; with 'tied' its moments are taken about the common centre, so its mean
    # moves there (onto the live component) and the shared covariance stays the data's.
    assert gm.weights_[1] < 1e-12
    rtol = 1e-12 if dtype == np.float64 else 1e-6
    if covariance_type == "tied":
        np.testing.assert_allclose(
            gm.means_[1], gm.means_[0], atol=1e-9 if dtype == np.float64 else 1e-4
        )
    else:
        np.testing.assert_allclose(gm.means_[1], [1e3, 1e3], rtol=rtol)
        np.testing.assert_allclose(_dense_variances(gm)[1], 1e-6, rtol=1e-6)
    assert (gm.predict(X) == 0).all()
    np.testing.assert_allclose(gm.predict_proba(X)[:, 0], 1.0)
    # The live component is the fit of one Gaussian to the data.
    one = GaussianMixture(1, covariance_type=covariance_type).fit(X)
    np.testing.assert_allclose(gm.means_[0], one.means_[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(gm.score(X), one.score(X), rtol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
def test_far_component_gets_exactly_zero_responsibility(dtype):
    # exp(-1e6) is 0; a vectorised exp that clamps its argument gives 5e-309 on some
    # instruction sets (the portable build tools/sanitize.sh makes shows it), which would keep
    # an emptied component alive on one machine and not on another.
    X = np.random.RandomState(0).normal(size=(200, 2)).astype(dtype)
    gm = GaussianMixture(2, max_iter=0, **_emptying_start("full")).fit(X)
    proba = gm.predict_proba(X)
    assert (proba[:, 1] == 0).all(), proba[:, 1].max()
    assert (proba[:, 0] == 1).all()


@pytest.mark.parametrize("covariance_type", ["full", "diag", "spherical"])
def test_emptied_component_without_reg_covar_is_named(covariance_type):
    X = np.random.RandomState(0).normal(size=(60, 2))
    with pytest.raises(
        ValueError, match="Component 1 has a covariance that is not positive definite"
    ):
        GaussianMixture(
            2, covariance_type=covariance_type, reg_covar=0.0, **_emptying_start(covariance_type)
        ).fit(X)


# ------------------------------------------------------------ far from the origin


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_offset_1e8_float64(covariance_type):
    init = {"means_init": TWO_BLOBS[[0, 40]]}
    near = GaussianMixture(2, covariance_type=covariance_type, **init).fit(TWO_BLOBS)
    far = GaussianMixture(
        2, covariance_type=covariance_type, **{"means_init": init["means_init"] + 1e8}
    )
    far.fit(TWO_BLOBS + 1e8)
    _assert_finite_model(far)
    # float64 resolves 1e8 + x to ~1.5e-8: moments about shifted points keep that accuracy.
    np.testing.assert_allclose(far.means_ - 1e8, near.means_, atol=1e-6)
    np.testing.assert_allclose(far.covariances_, near.covariances_, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(
        far.score_samples(TWO_BLOBS + 1e8), near.score_samples(TWO_BLOBS), rtol=1e-6, atol=1e-6
    )


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_offset_1e8_float32(covariance_type):
    # float32 spaces numbers near 1e8 by 8, so the blobs are spread over thousands. The fit on
    # the float32 values must equal the float64 fit of the very same (rounded) values.
    X32 = (TWO_BLOBS * 1000 + 1e8).astype(np.float32)
    X64 = X32.astype(np.float64)
    init = {"means_init": X64[[0, 40]]}
    f32 = GaussianMixture(2, covariance_type=covariance_type, **init).fit(X32)
    f64 = GaussianMixture(2, covariance_type=covariance_type, **init).fit(X64)
    _assert_finite_model(f32)
    np.testing.assert_allclose(f32.means_, f64.means_, rtol=0, atol=0.5)
    np.testing.assert_allclose(f32.covariances_, f64.covariances_, rtol=2e-3, atol=1.0)
    assert _same_partition(f32.predict(X32), TRUTH)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_float32_init_moments_far_from_origin(covariance_type):
    # The moments of the k-means initialisation must be taken about float32 points: a shift
    # rounded only afterwards put the initial means off by up to half the float32 spacing (4).
    X32 = (np.random.RandomState(3).normal(size=(500, 2)) * 300 + 1e8).astype(np.float32)
    labels = (np.arange(500) % 2).astype(np.int64)
    stats = _core.moments_from_labels(
        X32,
        np.empty(0),
        labels,
        2,
        getattr(_core.CovarianceType, covariance_type),
        _core.PassOptions(1),
    )
    mixture = _core.maximize(stats, 0.0)
    X64 = X32.astype(np.float64)
    expected = np.array([X64[labels == c].mean(axis=0) for c in (0, 1)])
    np.testing.assert_allclose(mixture.means, expected, rtol=0, atol=0.05)


# -------------------------------------------------------------------- extreme scales


@pytest.mark.parametrize("scale", [1e-150, 1e150], ids=["1e-150", "1e150"])
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_extreme_scales_with_matching_reg_covar(covariance_type, scale):
    # reg_covar is absolute (as in scikit-learn): scaled with the data's variance, the fit is
    # the unit-scale fit scaled.
    init = TWO_BLOBS[[0, 40]]
    unit = GaussianMixture(2, covariance_type=covariance_type, means_init=init).fit(TWO_BLOBS)
    X = TWO_BLOBS * scale
    gm = GaussianMixture(
        2, covariance_type=covariance_type, means_init=init * scale, reg_covar=1e-6 * scale**2
    ).fit(X)
    _assert_finite_model(gm)
    np.testing.assert_allclose(gm.means_ / scale, unit.means_, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(gm.covariances_ / scale**2, unit.covariances_, rtol=1e-9)
    np.testing.assert_array_equal(gm.predict(X), unit.predict(TWO_BLOBS))
    shift = X.shape[1] * np.log(scale)  # the density scales by scale^-n
    np.testing.assert_allclose(
        gm.score_samples(X), unit.score_samples(TWO_BLOBS) - shift, rtol=1e-9
    )


@pytest.mark.parametrize("scale", [1e-150, 1e150], ids=["1e-150", "1e150"])
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_extreme_scales_with_default_reg_covar(covariance_type, scale):
    X = TWO_BLOBS * scale
    gm = GaussianMixture(2, covariance_type=covariance_type, random_state=0).fit(X)
    _assert_finite_model(gm)
    scores = gm.score_samples(X)
    assert np.isfinite(scores).all()
    np.testing.assert_allclose(gm.predict_proba(X).sum(axis=1), 1.0)
    if scale > 1:
        # reg_covar is negligible here: the blobs are found.
        assert _same_partition(gm.predict(X), TRUTH)
    else:
        # reg_covar = 1e-6 swamps a variance of 1e-300: every component is N(mean, 1e-6 I),
        # which is what the data then score under.
        np.testing.assert_allclose(_dense_variances(gm), 1e-6, rtol=1e-9)
        np.testing.assert_allclose(scores, -np.log(2 * np.pi * 1e-6), rtol=1e-9)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
def test_data_beyond_the_squared_range_is_refused(dtype):
    limit = np.sqrt(np.finfo(dtype).max / 8)
    X = (TWO_BLOBS / 10 * limit).astype(dtype)
    with pytest.raises(ValueError, match="Rescale the data"):
        GaussianMixture(2).fit(X)


def test_kmeans_plusplus_refuses_overflowing_distances():
    # Called directly (below the Python checks) the core must still not seed from garbage.
    X = TWO_BLOBS * 1e155
    with pytest.raises(ValueError, match="squared distances between samples overflow"):
        _core.kmeans_plusplus(X, np.empty(0), 3, 0, 1)
    with pytest.raises(ValueError, match="squared distances between samples overflow"):
        _core.kmeans(X, np.empty(0), 3, 0)


def test_predict_refuses_rows_with_zero_density():
    # A model of tiny spread queried far away: every log-density is -inf, so there is no most
    # probable component; the labels must not silently be 0.
    X = TWO_BLOBS * 1e-150
    gm = GaussianMixture(2, means_init=TWO_BLOBS[[0, 40]] * 1e-150, reg_covar=1e-306).fit(X)
    far = np.full((3, 2), 1e10)
    for method in ("predict", "predict_proba", "score_samples"):
        with pytest.raises(ValueError, match="zero density under every component"):
            getattr(gm, method)(far)


@pytest.mark.parametrize("exponent", [-300, -40, 40, 300])
@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
def test_tiny_and_huge_sample_weights(exponent, dtype):
    X = TWO_BLOBS.astype(dtype)
    init = {"means_init": TWO_BLOBS[[0, 40]]}
    plain = GaussianMixture(2, **init).fit(X)
    w = np.full(80, 10.0**exponent)
    w[:10] *= 2  # not all equal, so the ratios matter
    weighted = GaussianMixture(2, **init).fit(X, sample_weight=w)
    reference = GaussianMixture(2, **init).fit(X, sample_weight=w / 10.0**exponent)
    _assert_finite_model(weighted)
    # (Dividing by 10**exponent rounds differently from the exact power-of-two rescaling.)
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(weighted.means_, reference.means_, rtol=rtol)
    np.testing.assert_allclose(weighted.covariances_, reference.covariances_, rtol=rtol)
    assert not np.allclose(reference.means_, plain.means_, rtol=1e-9)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_default_prior_on_collinear_features(covariance_type):
    # Duplicated columns make the data covariance singular; rounding could leave it barely
    # positive definite, and the default prior then built every covariance on it.
    X = np.array([[0.0, 0.0, 1.0, 1.0], [1.0, 1.0, 0.0, 0.0]] + [[1.0, 1.0, 1.0, 1.0]] * 6) * 1000
    gm = GaussianMixture(
        1, covariance_type=covariance_type, prior="default", reg_covar=0.0, random_state=0
    ).fit(X)
    _assert_finite_model(gm)
    assert np.isfinite(gm.score_samples(X)).all()
    bounds = np.array(gm.lower_bounds_)
    assert (np.diff(bounds) >= -1e-9 * np.abs(bounds[:-1])).all()
