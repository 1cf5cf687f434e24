// The full-covariance mixture in the forms the fused kernels and the pruned queries read
// (internal): built once per pass, shared read-only by every thread's kernel.
#pragma once

#include "kernels/kernel.hpp"

namespace gaussmix::detail {

/// Full covariances with more than kSmallFeatures features, in the data's precision T, about a
/// frame's centre.
template <typename T>
struct FullFactors {
  Index k = 0, n = 0;
  Vector<T> centre;    ///< (n) the frame's centre
  Vector<T> log_norm;  ///< (k) see log_norms()
  /// Per chunk of components (a register's worth, then halves, then one at a time), feature by
  /// feature, -means_c U_c(:, j) and U_c(0..j, j), components innermost: the fused E-step's
  /// factors in the order it reads them.
  Vector<T> triangles;
  RowMatrix<T> stacked;         ///< (n, k*n) the factors U_c side by side, in groups of `group`
                                ///< components, feature-major within a group
  RowMatrix<T> stacked_offset;  ///< (1, k*n) the products (means_c - centre) U_c, the same way
  Index group = 1;              ///< components per group of `stacked`

  /// The factors of mixture (full covariance, n > kSmallFeatures) about frame.centre.
  FullFactors(const Mixture& mixture, const KernelFrame<T>& frame);
};

/// Components per group of FullFactors::stacked: as many as fit in kProductCols columns.
inline Index full_group_size(Index k, Index n) {
  return std::max<Index>(1, std::min<Index>(k, kProductCols / std::max<Index>(n, 1)));
}

}  // namespace gaussmix::detail
