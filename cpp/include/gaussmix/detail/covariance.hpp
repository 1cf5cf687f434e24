// Per-covariance-type kernels used by the passes over the data (internal).
#pragma once

#include "gaussmix/mixture.hpp"
#include "gaussmix/stats.hpp"

#include <algorithm>
#include <memory>
#include <vector>
#include <type_traits>

namespace gaussmix::detail {

/// A mixture cast to the data's precision T and re-expressed about a common centre, so blocks of
/// rows are centred once and every product works on small numbers (data far from the origin stay
/// accurate). Built once per pass.
template <typename T>
struct Prepared {
  CovarianceType type = CovarianceType::Full;
  Index k = 0, n = 0;
  Vector<T> centre;             ///< (n) see prepare(): where the quadratic path may be
                                ///< taken, the point minimising the components' offsets;
                                ///< elsewhere the weighted mean of the component means
  RowMatrix<T> means;           ///< (k, n) component means minus centre
  RowMatrix<T> prec_chol;       ///< factor storage in T
  RowMatrix<T> prec;            ///< diag (k, n) and spherical (k, 1): squared factors (precisions)
  RowMatrix<T> tied_means_prec; ///< tied: (k, n) row c = (means_c) * U
  Vector<T> log_norm;           ///< (k) log weight + log det U - n/2 log(2 pi)
  // Fast-path forms, filled by prepare() as the type and size call for them:
  RowMatrix<T> stacked;         ///< full, n > 4: (n, k*n) the factors U_c side by side, in
                                ///< groups (for the pruned queries' products)
  RowMatrix<T> stacked_offset;  ///< full, n > 4: (1, k*n) the products means_c * U_c, the same way
  Vector<T> triangles;          ///< full, n > 4: per chunk of components, feature by feature,
                                ///< -means_c U_c(:, j) and U_c(0..j, j), components innermost
                                ///< (the fused E-step's factors in the order it reads them)
  RowMatrix<double> diag_w;     ///< diag and spherical: (2n, k) coefficients of [x^2, x]
  RowMatrix<double> diag_const; ///< diag and spherical: (1, k) the rest of the log-density
  Index group = 1;              ///< full, n > 4: components per group of `stacked`
  /// Full, float64, 33 to 64 features: the components whose expansion is accurate (see
  /// prepare_quadratic) take the quadratic path: the log-densities and the moments of a block as
  /// products with its quadratic features phi(x) = [x_j x_l (j <= l), x, 1] (quadratic_dim(n)
  /// columns), as many multiply-adds as the centred kernels, in well-shaped matrix products
  /// (and as fast at n = 64, see kMaxQuadraticFeatures). The other components, if any, take the
  /// centred kernels through `others`. (float data keep the centred kernels: the expansion would
  /// cost them too many of float's digits; with fewer features the fused centred kernels are
  /// faster in either precision.)
  bool quadratic = false;
  std::vector<Index> quad_components;   ///< quadratic: the components that take it, ascending
  std::vector<Index> other_components;  ///< quadratic: the rest, ascending
  std::shared_ptr<const Prepared<T>> others;  ///< quadratic: the rest as a mixture, same centre
  RowMatrix<double> quad_w;     ///< quadratic: (quadratic_dim(n), |quad_components|) log N as
                                ///< coefficients of phi
  double quad_max_abs = 0.0;    ///< quadratic: blocks with a centred value beyond this take the
                                ///< centred path for all components (their squares could overflow)
};

/// Whether data of precision T may take the quadratic path.
template <typename T>
constexpr bool kHasQuadraticPath = std::is_same<T, double>::value;

/// Columns of the quadratic features of n features: n (n + 1) / 2 products, n values and a 1.
inline Index quadratic_dim(Index n) { return n * (n + 1) / 2 + n + 1; }

template <typename T>
Prepared<T> prepare(const Mixture& mixture);

/// Scratch buffers of one thread, sized for blocks of up to `rows` rows. Obtained through
/// thread_workspace(), which keeps one per thread and type alive between passes so that the EM
/// loop allocates nothing per block or per iteration once the sizes are known.
template <typename T>
struct Workspace {
  RowMatrix<T> xc, diff, prod, log_prob, resp;
  RowMatrix<T> xc1;       ///< (rows, n + 1) the centred block and a column of ones
  RowMatrix<T> xt;        ///< (n, rows) the centred block transposed: one feature per row
  Vector<T> row_weight, colvec, lse;
  Vector<T> scratch;      ///< (rows) the responsibilities' row sums
  Vector<Index> kept;     ///< (rows) score queries: terms kept per row (log_sum_exp_rows)
  Vector<T> nk_block;     ///< (k) the block's responsibility sums
  Vector<double> nk_d;    ///< diag/spherical: (k) the same in double
  RowMatrix<T> moments;   ///< (n, n) one component's second moment (moments from labels)
  RowMatrix<T> shift_t;   ///< full, n > 4: (n, k) shifts transposed
  /// Full, n > 4: (n + 1, k n) the moment sums of the blocks since the last flush_moments, in
  /// double (column j k + c: feature j of component c); full_pending says they hold sums.
  RowMatrix<double> full_sums;
  bool full_pending = false;
  RowMatrix<double> centred_double;
  RowMatrix<double> powers;    ///< diag/spherical: (rows, 2n) [x^2, x] in double
  RowMatrix<double> log_prob_d, resp_d;  ///< diag/spherical: (rows, k) in double
  RowMatrix<double> moments_d;           ///< diag/spherical: (k, 2n)
  RowMatrix<double> phi;        ///< quadratic: (rows, quadratic_dim(n)) features of a block
  RowMatrix<double> quad_acc;   ///< quadratic: (k, quadratic_dim(n)) sum r^T phi over a slot
  RowMatrix<T> split_lp, split_resp;  ///< quadratic with others: (rows, k) columns gathered
  SufficientStats other_stats;  ///< quadratic with others: their moments over a slot
  void reserve_quadratic(Index rows, Index k, Index n) {
    grow(phi, rows, quadratic_dim(n));
    grow(quad_acc, k, quadratic_dim(n));
    grow(split_lp, rows, k);
    grow(split_resp, rows, k);
  }
  void reserve(Index rows, Index k, Index n) {
    grow(xc, rows, n);
    grow(xt, n, rows);
    grow(xc1, rows, n + 1);
    grow(diff, rows, n);
    grow(prod, rows, n);
    grow(log_prob, rows, k);
    grow(resp, rows, k);
    grow(row_weight, rows);
    grow(colvec, rows);
    grow(lse, rows);
    grow(powers, rows, 2 * n);
    grow(log_prob_d, rows, k);
    grow(resp_d, rows, k);
    grow(moments_d, k, 2 * n);
    grow(moments, n, n);
    grow(shift_t, n, k);
    grow(scratch, rows);
    grow(kept, rows);
    grow(nk_block, k);
    grow(nk_d, k);
  }
  /// Columns of the pruned queries' bound products (rows x kProductCols scalars stay in a core's
  /// cache).
  static constexpr Index kProductCols = 512;
  /// Full, n > 4: components per group of Prepared::stacked, as many as fit in kProductCols
  /// columns.
  static Index group_size(Index k, Index n) {
    return std::max<Index>(1, std::min<Index>(k, kProductCols / std::max<Index>(n, 1)));
  }

 private:
  template <class M>
  static void grow(M& m, Index r, Index c) {
    if (m.rows() != r || m.cols() != c) m.resize(r, c);
  }
  template <class V>
  static void grow(V& v, Index r) {
    if (v.size() != r) v.resize(r);
  }
};

/// This thread's workspace for T, reserved for (rows, k, n).
template <typename T>
Workspace<T>& thread_workspace(Index rows, Index k, Index n) {
  thread_local Workspace<T> ws;
  ws.reserve(rows, k, n);
  // Sums left by a pass that was stopped part-way belong to no one.
  ws.full_pending = false;
  return ws;
}

/// The rows x_i - centre of a block, in ws. For diag and spherical double data they are written
/// straight into the x half of ws.powers, which the log-densities then complete with x^2 instead
/// of copying the block once more.
template <typename T>
Eigen::Ref<RowMatrix<T>> centre_block(const Prepared<T>& prep,
                                      const Eigen::Ref<const RowMatrix<T>>& rows, Workspace<T>& ws);

/// The coefficients of diag_log_prob_rows: for diag or spherical mixtures of at most 16
/// components, [W; c] (2n + 1 rows) with the columns padded with zeros to 8 or 16; otherwise empty.
template <typename T>
RowMatrix<double> fused_diag_coefficients(const Prepared<T>& prep);

/// log weight_c + log N(x_i | c) of uncentred rows into out (rows x k) from the coefficients
/// above: centring, [x^2, x] and the product fused, four rows at a time, in double, nothing stored
/// but out. For the queries, which need no [x^2, x] afterwards for moments. With `labels`, each
/// row's most probable component (the first of equals) goes to labels[i] instead and out is not
/// touched. Returns the first row whose label has no finite log-density, or -1.
template <typename T>
Index diag_log_prob_rows(const Prepared<T>& prep, const RowMatrix<double>& coefficients,
                         const Eigen::Ref<const RowMatrix<T>>& rows, Eigen::Ref<RowMatrix<T>> out,
                         double* labels = nullptr);

/// log weight_c + log N(x_i | c) for the centred rows xc (rows x n) into out (rows x k). For
/// diag and spherical types it leaves [x^2, x] of xc in ws.powers.
template <typename T>
void weighted_log_prob_block(const Prepared<T>& prep, const Eigen::Ref<const RowMatrix<T>>& xc,
                             Workspace<T>& ws, Eigen::Ref<RowMatrix<T>> out);

/// Adds the moments of the centred rows xc under responsibilities resp (rows x k, already
/// multiplied by the sample weights, whose row sums are row_weight) into stats, about the
/// shifts `rel_shift` (k x n, relative to the centre). `powers_ready`: diag and spherical only,
/// ws.powers already holds [x^2, x] of this xc, left by weighted_log_prob_block just before.
/// Full covariances with n > 4 defer part of the sums in ws: flush_moments completes stats.
template <typename T>
void accumulate_moments_block(CovarianceType type, const Eigen::Ref<const RowMatrix<T>>& xc,
                              const Eigen::Ref<const RowMatrix<T>>& resp,
                              const Eigen::Ref<const Vector<T>>& row_weight,
                              const RowMatrix<T>& rel_shift, Workspace<T>& ws,
                              SufficientStats& stats, bool powers_ready = false);

/// Adds what accumulate_moments_block deferred in ws (full covariances, n > 4: the products of
/// the blocks since the last flush) to stats, as moments about rel_shift. Every call of
/// accumulate_moments_block since the last flush must have had this rel_shift and stats; call it
/// before reading stats, at the latest at the end of each slot.
template <typename T>
void flush_moments(const RowMatrix<T>& rel_shift, Workspace<T>& ws, SufficientStats& stats);

/// Block size for k components and n features: big enough for efficient products, small enough
/// that a block's working set stays in the core's cache.
Index block_rows_for(Index k, Index n);

/// Slot count that keeps the per-slot partial statistics within a fixed memory budget.
Index max_slots_for(CovarianceType type, Index k, Index n);

/// Block size for passes with a prepared mixture (the quadratic path has wider blocks).
template <typename T>
Index block_rows_for(const Prepared<T>& prep);

/// This thread's workspace for a pass with prep, blocks of up to `rows` rows.
template <typename T>
Workspace<T>& thread_workspace(const Prepared<T>& prep, Index rows) {
  auto& ws = thread_workspace<T>(rows, prep.k, prep.n);
  if (prep.quadratic) ws.reserve_quadratic(rows, prep.k, prep.n);
  return ws;
}

// The quadratic path, for double data (see kHasQuadraticPath).

/// Whether this block of centred rows takes the quadratic path.
bool takes_quadratic_path(const Prepared<double>& prep, const Eigen::Ref<const RowMatrix<double>>& xc);

/// At the start of a slot: zeroes the slot's sums in ws.
void begin_quadratic_slot(const Prepared<double>& prep, Workspace<double>& ws);

/// Fills ws.phi with the block's features and out with log weight + log N.
void quadratic_log_prob_block(const Prepared<double>& prep, const Eigen::Ref<const RowMatrix<double>>& xc,
                              Workspace<double>& ws, Eigen::Ref<RowMatrix<double>> out);

/// Adds the block's moments to the slot's sums in ws, for the block whose features
/// quadratic_log_prob_block left in ws.phi (resp already multiplied by the sample weights,
/// whose row sums are row_weight).
void quadratic_moments_block(const Prepared<double>& prep, const Eigen::Ref<const RowMatrix<double>>& xc,
                             const Eigen::Ref<const RowMatrix<double>>& resp,
                             const Eigen::Ref<const Vector<double>>& row_weight, Workspace<double>& ws);

/// At the end of a slot: adds the slot's sums in ws to stats as moments about `rel_shift`
/// (k x n, relative to the centre).
void flush_quadratic_moments(const Prepared<double>& prep, const RowMatrix<double>& rel_shift,
                             Workspace<double>& ws, SufficientStats& stats);

}  // namespace gaussmix::detail
