// SufficientStats: the additive summary of one pass over the data, the seam of the library.
#pragma once

#include "gaussmix/types.hpp"

namespace gaussmix {

/// Sufficient statistics of a Gaussian mixture over some set of rows.
///
/// Moments are taken about per-component shifts (the means the pass was run with) so that they
/// stay accurate for data far from the origin: s1_c = sum_i r_ic (x_i - shift_c) and s2 the
/// second moments about the same shifts. The tied type uses one common shift for all components
/// and keeps a single total second moment sum_i w_i (x_i - shift)(x_i - shift)^T.
///
/// Stats over disjoint rows with the same shifts merge with `+=`; merging is the only operation
/// threads, chunks, streaming and distributed reductions need.
struct SufficientStats {
  CovarianceType covariance_type = CovarianceType::Full;
  Vector<double> n_k;            ///< (k) summed responsibilities, weighted by sample weight
  RowMatrix<double> s1;          ///< (k, n) first moments about shift
  RowMatrix<double> s2;          ///< second moments: full (k*n, n), tied (n, n), diag (k, n), spherical (k, 1)
  RowMatrix<double> shift;       ///< (k, n) the point each component's moments are taken about
  double log_likelihood = 0.0;   ///< sum_i w_i log p(x_i) under the mixture the pass used
  double weight_sum = 0.0;       ///< sum_i w_i
  Index n_samples = 0;           ///< number of rows seen (including zero-weight rows)

  /// Zero statistics of the right shapes for k components and n features.
  static SufficientStats zeros(CovarianceType type, Index k, Index n, const RowMatrix<double>& shift);

  /// Adds other's sums to these. Throws InvalidArgument if types, shapes or shifts differ.
  SufficientStats& operator+=(const SufficientStats& other);

  Index n_components() const { return s1.rows(); }
  Index n_features() const { return s1.cols(); }
};

}  // namespace gaussmix
