// Queries that need only the largest log-densities of each row (labels, score_samples) for full
// covariances: a cheap bound from the leading features rules most components out, and only the
// components it cannot rule out get the whole product (internal).
#pragma once

#include "kernels/full_factors.hpp"

#include <vector>

namespace gaussmix::detail {

/// Rows per block of a pruned query: enough rows per component for the survivors' products to
/// run as matrix products rather than row by row.
constexpr Index kPrunedBlockRows = 1024;

/// The number of leading features h whose Mahalanobis terms bound a pruned label (or, `scores`,
/// score) query's log-densities, or 0 where pruning does not pay (not full covariance, too few
/// features or components).
template <typename T>
Index pruning_features(const FullFactors<T>& factors, bool scores);

/// Scratch buffers of one thread's kernel for pruned queries, sized for blocks of
/// kPrunedBlockRows rows by reserve().
template <typename T>
struct PrunedWorkspace {
  /// Sizes every buffer for factors and a bound of h features.
  void reserve(const FullFactors<T>& factors, Index h);

  RowMatrix<T> xc;               ///< (rows, n) the centred block
  RowMatrix<T> partial;          ///< (rows, k) sums of squares over the first h features
  RowMatrix<T> bound_y;          ///< (sub-block rows, h * group) products of the bound
  RowMatrix<T> gathered;         ///< (rows, n) the rows that need one component's whole value
  RowMatrix<T> tail;             ///< (rows, n - h) their products with that component's last columns
  RowMatrix<T> log_prob;         ///< (rows, k) the block's log-densities, -inf where ruled out
  Vector<T> threshold;           ///< (rows) the bound a component must reach to be computed
  std::vector<Index> candidate;  ///< (rows) each row's component of largest bound
  std::vector<Index> first;      ///< (k + 1) start of each component's rows in `order`
  std::vector<Index> order;      ///< rows needing a component's value, component by component
  std::vector<Index> cursor;     ///< (k + 1) scratch of the sorting into `order`
};

/// log weight_c + log N(x_i | c) of a block of rows (uncentred, values already checked) into out
/// wherever it can matter, -inf elsewhere: the squared norm of the first h columns of
/// (x - m_c) U_c is a lower bound of the whole (U_c is upper triangular, so they need only the
/// first h features), which bounds each log-density from above. Each row's component of largest
/// bound gets its whole value L; a component stays ruled out (-inf) only if its bound is below
/// L + cut (cut <= 0), so that the row's largest is always computed and, for cut < 0, every term
/// within cut of it. Where 2h features leave a quarter of them, the survivors' bounds are first
/// tightened to 2h columns and tested again. The bounds and the values share their first h terms and are rounded the
/// same way, so a bound is never below its value. Returns false, with out unspecified, where so many components survive
/// that pruning would cost more than it saves, or where a row's largest is not finite: the caller then computes the
/// block in full.
template <typename T>
bool pruned_log_prob_block(const FullFactors<T>& factors, Index h, T cut, const Eigen::Ref<const RowMatrix<T>>& rows,
                           PrunedWorkspace<T>& ws, Eigen::Ref<RowMatrix<T>> out);

/// Whether a pruned pass over X pays: on a sample of X's rows, evenly spaced, few enough
/// components survive the bound (X's values unchecked: non-finite ones make it false).
template <typename T>
bool pruning_pays(const FullFactors<T>& factors, Index h, T cut, const Eigen::Ref<const RowMatrix<T>>& X,
                  PrunedWorkspace<T>& ws);

}  // namespace gaussmix::detail
