# Types of the compiled module gaussmix._core (cpp/bindings/), for type checkers and editors.
# Arrays are NumPy arrays; "Data" are C-contiguous float32 or float64 (n_samples, n_features)
# arrays, passed without copies; an empty sample_weight means all ones.
from typing import Callable, Optional, Tuple

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]
Data = NDArray[np.float64] | NDArray[np.float32]

__version__: str
has_openmp: bool
model_format_version: int

class NotPositiveDefiniteError(ValueError): ...

class CovarianceType:
    full: "CovarianceType"
    tied: "CovarianceType"
    diag: "CovarianceType"
    spherical: "CovarianceType"
    @property
    def name(self) -> str: ...
    @property
    def value(self) -> int: ...

class PassOptions:
    n_threads: int
    missing: bool
    def __init__(self, n_threads: int = 0, missing: bool = False) -> None: ...

class Mixture:
    def __init__(
        self,
        covariance_type: CovarianceType,
        weights: Array,
        means: Array,
        covariances: Array,
        precisions_cholesky: Array,
    ) -> None: ...
    @staticmethod
    def from_covariances(
        covariance_type: CovarianceType, weights: Array, means: Array, covariances: Array
    ) -> "Mixture": ...
    @staticmethod
    def from_precisions(
        covariance_type: CovarianceType, weights: Array, means: Array, precisions: Array
    ) -> "Mixture": ...
    @property
    def covariance_type(self) -> CovarianceType: ...
    @property
    def weights(self) -> Array: ...
    @property
    def means(self) -> Array: ...
    @property
    def covariances(self) -> Array: ...
    @property
    def precisions_cholesky(self) -> Array: ...
    @property
    def n_components(self) -> int: ...
    @property
    def n_features(self) -> int: ...
    def precisions(self) -> Array: ...
    def n_parameters(self) -> int: ...
    def __getstate__(self) -> tuple: ...
    def __setstate__(self, state: tuple) -> None: ...

class SufficientStats:
    @staticmethod
    def zeros(
        covariance_type: CovarianceType, n_components: int, n_features: int, shift: Array
    ) -> "SufficientStats": ...
    @property
    def covariance_type(self) -> CovarianceType: ...
    @property
    def n_k(self) -> Array: ...
    @property
    def s1(self) -> Array: ...
    @property
    def s2(self) -> Array: ...
    @property
    def shift(self) -> Array: ...
    @property
    def log_likelihood(self) -> float: ...
    @property
    def weight_sum(self) -> float: ...
    @property
    def n_samples(self) -> int: ...
    @property
    def n_components(self) -> int: ...
    @property
    def n_features(self) -> int: ...
    def merge(self, other: "SufficientStats") -> "SufficientStats": ...
    def about(self, shift: Array) -> "SufficientStats": ...
    def scaled(self, factor: float) -> "SufficientStats": ...
    def __iadd__(self, other: "SufficientStats") -> "SufficientStats": ...
    def __add__(self, other: "SufficientStats") -> "SufficientStats": ...
    def __getstate__(self) -> tuple: ...
    def __setstate__(self, state: tuple) -> None: ...

class Prior:
    def __init__(
        self,
        *,
        weight_concentration: float,
        mean: Array,
        mean_precision: float,
        degrees_of_freedom: float,
        scale: Array,
    ) -> None: ...
    weight_concentration: float
    mean: Array
    mean_precision: float
    degrees_of_freedom: float
    scale: Array
    def validate(self, covariance_type: CovarianceType, n_features: int) -> None: ...

class EmResult:
    mixture: Mixture
    n_iter: int
    converged: bool
    lower_bound: float
    lower_bounds: list[float]
    unsettled_m_steps: int
    last_m_step_unsettled: bool

class CenterAssignment:
    labels: NDArray[np.int64]
    sq_distances: Array
    sums: Array
    counts: Array
    inertia: float

class Hierarchy:
    @property
    def merges(self) -> NDArray[np.int64]: ...
    @property
    def costs(self) -> NDArray[np.float64]: ...
    @property
    def n_rows(self) -> int: ...
    def labels(self, k: int) -> NDArray[np.int64]: ...

class KMeansResult:
    centers: Array
    labels: NDArray[np.int64]
    inertia: float
    n_iter: int

def accumulate(
    X: Data, sample_weight: Array, mixture: Mixture, options: PassOptions
) -> SufficientStats: ...
def maximize_reporting(
    stats: SufficientStats,
    reg_covar: float,
    prior: Optional[Prior] = None,
    previous: Optional[Mixture] = None,
) -> tuple[Mixture, bool]: ...
def maximize(
    stats: SufficientStats,
    reg_covar: float,
    prior: Optional[Prior] = None,
    previous: Optional[Mixture] = None,
) -> Mixture: ...
def moments_from_labels(
    X: Data,
    sample_weight: Array,
    labels: NDArray[np.int64],
    k: int,
    covariance_type: CovarianceType,
    options: PassOptions,
) -> SufficientStats: ...
def moments_from_responsibilities(
    X: Data,
    sample_weight: Array,
    resp: Array,
    covariance_type: CovarianceType,
    options: PassOptions,
) -> SufficientStats: ...
def moments_from_labels_about(
    X: Data,
    sample_weight: Array,
    labels: NDArray[np.int64],
    k: int,
    covariance_type: CovarianceType,
    shift: Array,
    options: PassOptions,
) -> SufficientStats: ...
def moments_from_responsibilities_about(
    X: Data,
    sample_weight: Array,
    resp: Array,
    covariance_type: CovarianceType,
    shift: Array,
    options: PassOptions,
) -> SufficientStats: ...
def log_prob(
    X: Data, mixture: Mixture, output: str, n_threads: int = 0, missing: bool = False
) -> Array: ...
def impute(
    X: Data,
    mixture: Mixture,
    n_threads: int = 0,
    uniforms: Optional[Array] = None,
    normals: Optional[Array] = None,
) -> Array: ...
def pruned_query_block(X: Data, mixture: Mixture, output: str) -> Tuple[int, bool, bool, Array]: ...
def log_prior(mixture: Mixture, prior: Prior) -> float: ...
def run_em(
    X: Data,
    sample_weight: Array,
    initial: Mixture,
    tol: float,
    reg_covar: float,
    max_iter: int,
    n_threads: int,
    initial_lower_bound: float,
    callback: Optional[Callable[[int, float, float], None]] = None,
    prior: Optional[Prior] = None,
    missing: bool = False,
) -> EmResult: ...
def fit_model(
    X: Data,
    sample_weight: Array,
    n_components: int,
    covariance_type: CovarianceType,
    tol: float,
    reg_covar: float,
    max_iter: int,
    n_init: int,
    init: str,
    seed: int,
    n_threads: int = 0,
) -> Tuple[Mixture, int, bool, float]: ...
def agglomerate(Z: NDArray[np.float64], sample_weight: Array, n_threads: int = 0) -> Hierarchy: ...
def scaled_svd(X: Data, sample_weight: Array) -> NDArray[np.float64]: ...
def kmeans(
    X: Data,
    sample_weight: Array,
    k: int,
    seed: int,
    max_iter: int = 300,
    tol: float = 1e-4,
    n_threads: int = 0,
) -> KMeansResult: ...
def kmeans_plusplus(
    X: Data, sample_weight: Array, k: int, seed: int, n_threads: int = 0
) -> NDArray[np.int64]: ...
def assign_to_centers(
    X: Data, sample_weight: Array, centers: Array, origin: Array, n_threads: int = 0
) -> CenterAssignment: ...
def encode_model(
    mixture: Mixture,
    n_iter: int,
    converged: bool,
    lower_bound: float,
    dtype: str = "float64",
    metadata: bytes = b"",
) -> bytes: ...
def decode_model(data: bytes) -> Tuple[Mixture, int, bool, float, str, bytes]: ...
