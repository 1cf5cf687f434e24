// The incomplete-rows kernel family: rows where NaN marks a value that was not observed
// (internal). It wraps the kernel the factory chose for the structure and corrects its work on
// the rows that have holes:
//
// - A row's holes are filled with the frame's centre and the wrapped kernel computes the
//   complete-data log-density of the filled row. For component c with precision P, residual
//   y = x_filled - mu_c, missing block m and g = (P y)_m, the observed coordinates' marginal is
//     log N(x_o) = log N(x_filled) + |m|/2 log 2pi - 1/2 log det P_mm + 1/2 g^T P_mm^-1 g,
//   because minimising y^T P y over y_m leaves the Schur complement (the observed block's own
//   precision) and det Sigma_oo = det Sigma det P_mm. Only the missing block is factored
//   (|m| x |m|, once per pattern per precision and thread), never the observed one.
// - The conditional mean of the missing block is x_filled + delta with delta = -P_mm^-1 g, and
//   its conditional covariance is P_mm^-1. The wrapped kernel sums the filled rows' moments; the
//   correction adds, per component, r delta to s1 and r (x^ x^T - y y^T + P_mm^-1) to s2 on the
//   entries the missing block touches: the expected complete-data statistics of EM for
//   incomplete data. Diagonal structures need no factor: delta = mu_m - x_m, the variance adds.
//
// Blocks without NaN go straight to the wrapped kernel, so complete data give the same bits as
// without this family.
#pragma once

#include "kernels/kernel.hpp"

#include <string>
#include <unordered_map>
#include <vector>

namespace gaussmix::detail {

template <typename T>
class IncompleteKernel final : public Kernel<T> {
  using Base = Kernel<T>;

 public:
  IncompleteKernel(const Mixture& mixture, std::unique_ptr<Kernel<T>> inner,
                   std::shared_ptr<const KernelFrame<T>> frame);

  std::unique_ptr<Kernel<T>> clone() const override;
  void load(const Eigen::Ref<const RowMatrix<T>>& rows) override;
  void log_prob(Eigen::Ref<RowMatrix<T>> out) override;
  void moments(const Eigen::Ref<const RowMatrix<T>>& resp, const Eigen::Ref<const Vector<T>>& row_weight,
               SufficientStats& stats) override;
  void plan_query(const Eigen::Ref<const RowMatrix<T>>& X, LogProbOutput output) override {
    inner_->plan_query(X, output);
  }
  Index query_rows() const override { return inner_->query_rows(); }
  typename Base::QueryBlock query(const Eigen::Ref<const RowMatrix<T>>& rows, Eigen::Ref<RowMatrix<T>> out,
                                  double* labels) override;

  /// After load() and log_prob() normalised into resp (rows x k, rows summing to 1): the loaded
  /// rows with every hole filled into out (rows x n). Without `uniforms`, by the conditional mean
  /// under the mixture, sum_c resp_c E[x_m | x_o, c]; with them, by a draw from the conditional
  /// mixture: the component whose cumulative responsibility passes uniforms[i], then
  /// E[x_m | x_o, c] + P_mm^-1/2 z with z the row's entries of `normals` at the holes.
  void complete_rows(const Eigen::Ref<const RowMatrix<T>>& resp, const double* uniforms,
                     const Eigen::Ref<const RowMatrix<double>>* normals, Eigen::Ref<RowMatrix<T>> out) const;

  void end_slot(SufficientStats& stats) override;

 private:
  // Every per-component quantity below is laid out with the component innermost ([...][c]), so
  // the per-row loops run over the k components in contiguous, vectorisable strides.
  //
  // What every thread of the pass reads: the precisions and the parameters.
  struct Shared {
    bool diagonal = false;                              // diag and spherical: precisions are diagonals
    bool per_component_matrix = true;                   // s2 has one block per component (else pooled)
    bool trace = false;                                 // spherical: s2 keeps the trace
    std::vector<double> precision;                      // dense: [r][j][c] = P_c(r, j) (tied: P repeated)
    std::vector<double> diag_precision, log_precision;  // diagonal: [j][c]
    std::vector<double> means, shift;                   // [j][c]
    std::vector<double> log_weights;                    // [c]
  };
  // One missing-value pattern's factors (dense structures), per component.
  struct Pattern {
    std::vector<Index> missing;        // the holes' columns, ascending
    std::vector<char> is_missing;      // (n)
    std::vector<double> chol;          // [a][b][c]: lower L_c with L_c L_c^T = P_c,mm
    std::vector<double> inv_diag;      // [a][c]: 1 / L_c(a, a)
    std::vector<double> cond_cov;      // [a][b][c]: P_c,mm^-1, the conditional covariance
    std::vector<double> half_log_det;  // [c]: 1/2 log det P_c,mm
  };

  // A clone for another thread: the shared parameters, the wrapped kernel's clone, own scratch.
  IncompleteKernel(const IncompleteKernel& other, std::unique_ptr<Kernel<T>> inner)
      : Base(other), shared_(other.shared_), inner_(std::move(inner)), kp_(other.kp_) {}

  const Pattern& pattern_of(const std::vector<Index>& missing);

  std::shared_ptr<const Shared> shared_;
  std::unique_ptr<Kernel<T>> inner_;
  Index kp_;  // lanes of the per-component arrays: k rounded up to whole vector widths
  // The loaded block: filled rows, which rows have holes, their patterns and deltas.
  RowMatrix<T> filled_;
  Index rows_ = 0;
  std::vector<Index> holed_;  // block rows with holes
  std::vector<const Pattern*> holed_pattern_;
  std::vector<Index> delta_at_;  // offset of row t's [a][c] deltas in delta_
  std::vector<double> delta_;
  std::vector<Index> scratch_missing_;
  std::string scratch_key_;
  std::vector<double> y_, g_, v_, full_delta_, sum_;   // per-row scratch, [j][c]
  std::unordered_map<std::string, Pattern> patterns_;  // this thread's cache, per pass
  // The slot's corrections, added to the statistics at end_slot(): s1 [j][c]; s2 full or pooled
  // [l][j][c] (lower triangle), diag [j][c], spherical [c].
  std::vector<double> s1_, s2_;
  bool pending_ = false;
};

/// The kernel for rows that may hold NaN: `inner` (the structure's own kernel) corrected.
template <typename T>
std::unique_ptr<Kernel<T>> make_incomplete_kernel(const Mixture& mixture, std::unique_ptr<Kernel<T>> inner,
                                                  std::shared_ptr<const KernelFrame<T>> frame);

}  // namespace gaussmix::detail
