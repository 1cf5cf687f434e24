// Model-based hierarchical agglomeration (Banfield & Raftery 1993; Fraley 1998), the start of
// R's mclust: EM begins from a cut of the merge tree.
#pragma once

#include "gaussmix/accumulate.hpp"

#include <cstdint>
#include <functional>

namespace gaussmix {

/// The merge tree of agglomerate(). Clusters are named by their smallest row: at step s the
/// cluster named merges(s, 1) joins the one named merges(s, 0) (merges(s, 0) < merges(s, 1)),
/// which keeps its name. Steps are in order of merging; after m - k steps k clusters remain.
struct Hierarchy {
  RowMatrix<std::int64_t> merges;  ///< (m - 1, 2)
  Vector<double> costs;            ///< (m - 1) the criterion's increase at each step
  Index n_rows = 0;

  /// Labels 0..k-1 of the m rows after m - k merges, numbered in order of each cluster's first
  /// row. Throws InvalidArgument unless 1 <= k <= m.
  Vector<std::int64_t> labels(Index k) const;
};

/// Agglomerates the rows of Z, starting from singletons, by merging at each step the two
/// clusters whose union least increases the unconstrained (VVV) classification criterion
/// sum_c l_c log(det(W_c / l_c) + (tr W_c + alpha) / l_c), where l_c is a cluster's size and W_c
/// its scatter matrix about its mean. The trace term keeps small clusters (l_c <= n, whose W_c
/// is singular) comparable; alpha is the mean variance per feature of all rows. This is the
/// criterion of mclust's hcVVV with its defaults. Ties go to the pair with the smaller rows.
///
/// sample_weight (empty, or one positive entry per row) weights rows as multiplicities,
/// rescaled to mean 1 so that equal weights are counts. Time O(m^2 n^3) at worst (typically
/// O(m^2 n^2)), memory O(m^2): meant for up to a few thousand rows (a subsample of larger
/// data). Throws InvalidArgument for empty or non-finite Z or bad weights. Deterministic: the
/// tree does not depend on n_threads. `should_stop`, if given, is called on the calling
/// thread between steps and may throw to abort.
Hierarchy agglomerate(const Eigen::Ref<const RowMatrix<double>>& Z,
                      const SampleWeights& sample_weight = Vector<double>(), int n_threads = 0,
                      const std::function<void()>& should_stop = {});

/// The coordinates mclust's start agglomerates ("scaled SVD"): each feature centred and divided
/// by its standard deviation, then projected on the principal axes and each axis divided by
/// the square root of its singular value. Weighted as agglomerate() weights rows. Constant
/// features and null directions are dropped, so the result may have fewer columns (at least
/// one; all-constant data give one zero column). Throws InvalidArgument for fewer than 2 rows.
template <typename T>
RowMatrix<double> scaled_svd(const Eigen::Ref<const RowMatrix<T>>& X,
                             const SampleWeights& sample_weight = Vector<double>());

}  // namespace gaussmix
