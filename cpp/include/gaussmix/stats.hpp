// SufficientStats: the additive summary of one pass over the data, the seam of the library.
#pragma once

#include "gaussmix/types.hpp"

namespace gaussmix {

/// Sufficient statistics of a Gaussian mixture over some set of rows.
///
/// What each field holds, for k components and n features (r_ic: row i's responsibility for
/// component c times its sample weight w_i; s_c: row c of `shift`):
///
/// - `n_k[c]` = sum_i r_ic.
/// - `s1(c, :)` = sum_i r_ic (x_i - s_c): first moments about the shift, not about the origin,
///   so that data far from the origin keep their digits.
/// - `s2`, second moments about the same shifts, in the layout of the covariance type:
///   full (k n, n): block c = sum_i r_ic (x_i - s_c)(x_i - s_c)^T, **lower triangle only**
///   (the entries above the diagonal are zero); tied (n, n): one pooled
///   sum_i w_i (x_i - s)(x_i - s)^T over all rows, all shifts equal, lower triangle only;
///   diag (k, n): sum_i r_ic (x_i - s_c)^2 per feature; spherical (k, 1): its sum over features.
/// - `shift` (k, n): the points the moments are about (accumulate(): the means it ran with, or
///   for tied their weighted mean, as rounded to the data's precision).
/// - `log_likelihood` = sum_i w_i log p(x_i) under the mixture the pass ran with (0 for the
///   initialisation passes), `weight_sum` = sum_i w_i, `n_samples` the rows seen (zero weights
///   included).
///
/// Statistics of disjoint rows taken about the same shifts merge by adding every field
/// (merge() or `+=`); merging is commutative, and associative up to rounding, so any grouping
/// gives the same M-step to rounding. The library's passes merge their per-slot sums in a fixed
/// order, so their results do not depend on the thread count. Threads, chunks, streaming and
/// distributed reductions (Dask) need nothing else.
struct SufficientStats {
  CovarianceType covariance_type = CovarianceType::Full;
  Vector<double> n_k;       ///< (k)
  RowMatrix<double> s1;     ///< (k, n)
  RowMatrix<double> s2;     ///< see above: full (k*n, n), tied (n, n), diag (k, n), spherical (k, 1)
  RowMatrix<double> shift;  ///< (k, n)
  double log_likelihood = 0.0;
  double weight_sum = 0.0;
  Index n_samples = 0;

  /// Zero statistics of the right shapes for k components and n features about `shift`.
  static SufficientStats zeros(CovarianceType type, Index k, Index n, const RowMatrix<double>& shift);

  /// Adds other's sums to these. Throws InvalidArgument if types, shapes or shifts differ.
  SufficientStats& merge(const SufficientStats& other);
  SufficientStats& operator+=(const SufficientStats& other) { return merge(other); }

  /// The same sums taken about other shifts (k, n): with d_c = shift_c - new_shift_c,
  /// s1_c + N_c d_c and s2_c + d_c s1_c^T + s1_c d_c^T + N_c d_c d_c^T (in the layout of the
  /// type; tied's pooled sum uses the total of s1, exact when each row's responsibilities sum
  /// to one, as in every pass of the library). Lets statistics about different points merge,
  /// e.g. the running statistics of stepwise EM and a new chunk's. Throws InvalidArgument on a
  /// wrong shape, or for tied when the rows of new_shift differ.
  SufficientStats about(const RowMatrix<double>& new_shift) const;
  /// Every sum (n_k, s1, s2, log_likelihood, weight_sum) multiplied by factor >= 0; n_samples
  /// kept. Stepwise EM decays its running statistics with it.
  SufficientStats scaled(double factor) const;

  Index n_components() const { return s1.rows(); }
  Index n_features() const { return s1.cols(); }
};

}  // namespace gaussmix
