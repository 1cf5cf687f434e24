// Matrix aliases and the covariance-type enum shared by the whole library.
#pragma once

#include <Eigen/Core>

#include <string>

namespace gaussmix {

using Index = Eigen::Index;

/// Row-major dynamic matrix: one sample (or one component) per row, like a C-ordered NumPy array.
template <typename T>
using RowMatrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

template <typename T>
using Vector = Eigen::Matrix<T, Eigen::Dynamic, 1>;

/// The constraint on the component covariances.
///
/// Storage of covariances and precision Cholesky factors (row-major, k components, n features):
/// full: (k*n, n), component c in rows [c*n, (c+1)*n); tied: (n, n); diag: (k, n); spherical: (k, 1).
/// scikit-learn's four structures (mclust's VVV, EEE, VVI, VII), then mclust's constrained
/// models, stored like Full (cpp/src/structures/mclust.cpp).
enum class CovarianceType { Full, Tied, Diag, Spherical, EII, EEI, EVI, EEV, EVV, VEI, VEE, VEV, EVE, VVE };

/// Parses "full", "tied", "diag", "spherical" or one of the mclust names above; throws
/// InvalidArgument otherwise.
CovarianceType parse_covariance_type(const std::string& name);

/// The lower-case name used by parse_covariance_type.
std::string to_string(CovarianceType type);

/// Rows and columns of the covariance (and precision Cholesky) storage for k components, n features.
std::pair<Index, Index> covariance_storage_shape(CovarianceType type, Index k, Index n);

}  // namespace gaussmix
