"""gaussmix needs only NumPy at run time: the estimator works with scikit-learn unimportable."""

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import sys, warnings

    class BlockSklearn:
        def find_spec(self, name, path=None, target=None):
            if name == "sklearn" or name.startswith("sklearn."):
                raise ImportError("scikit-learn is blocked for this test")
            return None

    sys.meta_path.insert(0, BlockSklearn())

    import numpy as np
    import gaussmix
    from gaussmix._sklearn_compat import HAVE_SKLEARN, NotFittedError, ConvergenceWarning
    assert not HAVE_SKLEARN
    assert "sklearn" not in sys.modules

    rng = np.random.RandomState(0)
    X = np.vstack([rng.randn(200, 2), rng.randn(200, 2) + 8])
    gm = gaussmix.GaussianMixture(2, covariance_type="diag", random_state=0)
    try:
        gm.predict(X)
    except NotFittedError as exc:
        assert isinstance(exc, ValueError) and isinstance(exc, AttributeError)
    else:
        raise AssertionError("predict before fit must raise")
    labels = gm.fit_predict(X)
    assert sorted(np.bincount(labels)) == [200, 200]
    params = gm.get_params()
    assert params["covariance_type"] == "diag" and params["n_components"] == 2
    assert gm.set_params(n_components=3).n_components == 3
    assert repr(gm) == "GaussianMixture(covariance_type='diag', n_components=3, random_state=0)"
    try:
        gm.set_params(bogus=1)
    except ValueError as exc:
        assert "bogus" in str(exc)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gaussmix.GaussianMixture(2, max_iter=1, tol=0).fit(X)
    assert any(issubclass(w.category, ConvergenceWarning) for w in caught)
    print("ok")
    """
)


def test_package_works_without_sklearn():
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
