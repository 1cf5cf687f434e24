"""gaussmix: Gaussian mixture models fitted by EM, with a fast C++/OpenMP core.

``gaussmix.GaussianMixture`` is a drop-in replacement for scikit-learn's estimator of the same
name.
"""

try:
    from . import _core
except ImportError as exc:  # pragma: no cover - only when the extension was not built
    raise ImportError(
        "gaussmix's compiled extension (gaussmix._core) could not be imported. Install the "
        "package with `pip install .` (which compiles it) rather than importing the source tree."
    ) from exc

from ._cmake import get_cmake_dir
from ._decomposition import CovarianceDecomposition
from ._gaussian_mixture import GaussianMixture
from ._imputer import GaussianMixtureImputer
from ._io import load
from ._model_selection import ModelSelectionResult, select_model
from ._priors import GaussianPrior, default_prior

__version__ = _core.__version__

#: The additive summary of a pass over data (see GaussianMixture.statistics): it pickles, and
#: statistics about the same shifts merge with ``+``.
SufficientStats = _core.SufficientStats

__all__ = [
    "CovarianceDecomposition",
    "GaussianMixture",
    "GaussianMixtureImputer",
    "GaussianPrior",
    "ModelSelectionResult",
    "SufficientStats",
    "default_prior",
    "get_cmake_dir",
    "load",
    "select_model",
    "__version__",
]
