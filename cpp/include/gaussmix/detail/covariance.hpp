// Per-covariance-type kernels used by the passes over the data (internal).
#pragma once

#include "gaussmix/mixture.hpp"
#include "gaussmix/stats.hpp"

namespace gaussmix::detail {

/// A mixture cast to the data's precision T and re-expressed about a common centre, so blocks of
/// rows are centred once and every product works on small numbers (data far from the origin stay
/// accurate). Built once per pass.
template <typename T>
struct Prepared {
  CovarianceType type = CovarianceType::Full;
  Index k = 0, n = 0;
  Vector<T> centre;             ///< (n) weighted mean of the component means
  RowMatrix<T> means;           ///< (k, n) component means minus centre
  RowMatrix<T> prec_chol;       ///< factor storage in T
  RowMatrix<T> prec;            ///< diag (k, n) and spherical (k, 1): squared factors (precisions)
  RowMatrix<T> tied_means_prec; ///< tied: (k, n) row c = (means_c) * U
  Vector<T> log_norm;           ///< (k) log weight + log det U - n/2 log(2 pi)
};

template <typename T>
Prepared<T> prepare(const Mixture& mixture);

/// Scratch buffers of one thread, sized once per pass for blocks of up to `rows` rows.
template <typename T>
struct Workspace {
  RowMatrix<T> xc, diff, prod, log_prob, resp;
  Vector<T> row_weight, colvec;
  RowMatrix<T> s2_block;
  RowMatrix<double> centred_double;
  void reserve(Index rows, Index k, Index n) {
    xc.resize(rows, n);
    diff.resize(rows, n);
    prod.resize(rows, n);
    log_prob.resize(rows, k);
    resp.resize(rows, k);
    row_weight.resize(rows);
    colvec.resize(rows);
    s2_block.resize(n, n);
  }
};

/// log weight_c + log N(x_i | c) for the centred rows xc (rows x n) into out (rows x k).
template <typename T>
void weighted_log_prob_block(const Prepared<T>& prep, const Eigen::Ref<const RowMatrix<T>>& xc,
                             Workspace<T>& ws, Eigen::Ref<RowMatrix<T>> out);

/// Adds the moments of the centred rows xc under responsibilities resp (rows x k, already
/// multiplied by the sample weights, whose row sums are row_weight) into stats, about the
/// shifts `rel_shift` (k x n, relative to the centre).
template <typename T>
void accumulate_moments_block(CovarianceType type, const Eigen::Ref<const RowMatrix<T>>& xc,
                              const Eigen::Ref<const RowMatrix<T>>& resp,
                              const Eigen::Ref<const Vector<T>>& row_weight,
                              const RowMatrix<T>& rel_shift, Workspace<T>& ws,
                              SufficientStats& stats);

/// Block size for k components and n features: big enough for efficient products, small enough
/// that a block's working set stays in the core's cache.
Index block_rows_for(Index k, Index n);

/// Slot count that keeps the per-slot partial statistics within a fixed memory budget.
Index max_slots_for(CovarianceType type, Index k, Index n);

}  // namespace gaussmix::detail
