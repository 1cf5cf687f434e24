// The kernel contract: the per-block work of a pass over the rows, implemented once per kernel
// family and chosen once per pass by the factory (kernel_factory.cpp), the only place that
// switches on covariance structure, feature count and precision (internal).
//
// A pass (accumulate, the initialisation moments, the queries) is a plain loop over blocks of
// rows. For each block it calls, on its thread's kernel:
//
//   load(rows)              the block, uncentred; the kernel centres it into its own scratch
//   log_prob(out)           log weight_c + log N(x_i | c) of the loaded rows      (E-step)
//   moments(resp, rw, st)   the loaded rows' moment sums under responsibilities    (M-step sums)
//
// and end_slot(st) after the last block of each slot, before the slot's statistics are merged.
// Queries call query(rows, ...) instead, which a family may answer by a faster route of its own
// (fused diagonal loops, pruned full queries). Nothing travels between those calls but what the
// kernel keeps in its own members; the driver knows no family.
#pragma once

#include "detail/constants.hpp"
#include "gaussmix/mixture.hpp"
#include "gaussmix/queries.hpp"
#include "gaussmix/stats.hpp"

#include <Eigen/Core>

#include <algorithm>
#include <memory>

namespace gaussmix::detail {

/// Where a pass's blocks are centred and its moments taken, in the data's precision T.
///
/// Rows are centred once on `centre` (a value of T, so that data far from the origin lose no
/// digits in the products); component c's moments are taken about centre + rel_shift.row(c),
/// which is exactly `shift.row(c)` in double: the shift the statistics report.
template <typename T>
struct KernelFrame {
  Vector<T> centre;         ///< (n)
  RowMatrix<T> rel_shift;   ///< (k, n) each component's shift relative to the centre
  RowMatrix<double> shift;  ///< (k, n) centre + rel_shift, exactly, in double
};

/// The frame of an EM pass or query under `mixture`: centred on the weighted mean of its means;
/// each component's moments about its own mean, or, with `pooled` (one second moment for all
/// components, as the tied structure keeps), all about the centre.
template <typename T>
KernelFrame<T> frame_of(const Mixture& mixture, bool pooled);

/// The frame of an initialisation pass: moments about the given (k, n) shifts, centred on
/// their mean rounded to T (the shifts reported are the points actually used).
template <typename T>
KernelFrame<T> frame_about(const RowMatrix<double>& shift);

/// One thread's worker for the blocks of one pass. See the file comment for the protocol.
template <typename T>
class Kernel {
 public:
  virtual ~Kernel() = default;

  /// A kernel for another thread of the same pass: the same (shared, read-only) factors and
  /// frame, scratch of its own. Safe to call from several threads at once.
  virtual std::unique_ptr<Kernel> clone() const = 0;

  /// Rows per block this family was tuned for; the passes cut their rows into such blocks.
  Index block_rows() const { return block_rows_; }

  /// Takes the next block of rows (at most block_rows(), uncentred).
  virtual void load(const Eigen::Ref<const RowMatrix<T>>& rows) = 0;

  /// log weight_c + log N(x_i | c) of the loaded rows into out (rows x k). Only for kernels made
  /// from a mixture (make_kernel), not for moment-only ones (make_moments_kernel).
  virtual void log_prob(Eigen::Ref<RowMatrix<T>> out) = 0;

  /// Adds the loaded rows' sums to stats: n_k, s1 and s2 about the frame's shifts, under
  /// resp (rows x k, already multiplied by the sample weights) whose row sums are row_weight.
  /// A family may keep part of the sums back until end_slot().
  virtual void moments(const Eigen::Ref<const RowMatrix<T>>& resp, const Eigen::Ref<const Vector<T>>& row_weight,
                       SufficientStats& stats) = 0;

  /// Adds what moments() kept back to stats. Called after the last block of every slot.
  virtual void end_slot(SufficientStats& /*stats*/) {}

  /// Once per query pass, on the kernel the threads' kernels are cloned from: lets a family
  /// choose its route for `output` over X (the full family decides here whether to prune).
  virtual void plan_query(const Eigen::Ref<const RowMatrix<T>>& /*X*/, LogProbOutput /*output*/) {}

  /// Rows per query block (block_rows() unless plan_query() chose wider blocks).
  virtual Index query_rows() const { return block_rows(); }

  /// What query() produced for a block.
  struct QueryBlock {
    bool labelled = false;  ///< the labels were written; `out` holds nothing
    Index bad_row = -1;     ///< labelled: the first row without a finite density, or -1
  };

  /// A query block of uncentred rows (values checked, at most query_rows()): its log-densities
  /// into out (rows x k; -inf for terms a pruned route ruled out, which cannot change the
  /// planned output), or, when `labels` is given and the family can, each row's most probable
  /// component straight into labels[i]. By default: load, then log_prob, block by block.
  virtual QueryBlock query(const Eigen::Ref<const RowMatrix<T>>& rows, Eigen::Ref<RowMatrix<T>> out, double* labels);

 protected:
  Kernel(Index k, Index n, Index block_rows, std::shared_ptr<const KernelFrame<T>> frame)
      : k_(k), n_(n), block_rows_(block_rows), frame_(std::move(frame)) {}
  Kernel(const Kernel&) = default;

  Index k_, n_, block_rows_;
  std::shared_ptr<const KernelFrame<T>> frame_;
};

/// The factory's choice for a pass under `mixture` (frame from frame_of()). With `missing`, NaN
/// in the rows marks values not observed (the incomplete-rows family wraps the choice).
template <typename T>
std::unique_ptr<Kernel<T>> make_kernel(const Mixture& mixture, std::shared_ptr<const KernelFrame<T>> frame,
                                       bool missing = false);

/// A kernel that only sums moments (the initialisation passes), for the statistics of `type`.
template <typename T>
std::unique_ptr<Kernel<T>> make_moments_kernel(CovarianceType type, Index k, Index n,
                                               std::shared_ptr<const KernelFrame<T>> frame);

// ------------------------------------------------------------------ shared by the families

/// Features up to this many take the few-feature full kernel (loops vectorised across rows).
constexpr Index kSmallFeatures = 4;

/// Columns of the pruned queries' bound products (rows x kProductCols scalars stay in a core's
/// cache).
constexpr Index kProductCols = 512;

/// Block size for k components and n features: big enough for efficient products, small enough
/// that a block's working set stays in the core's cache. Every family uses it, so the rows'
/// partition (and hence every sum's order) depends on the data's shape alone.
Index block_rows_for(Index k, Index n);

/// log weight_c + log det U_c - n/2 log(2 pi): the constant part of each log-density. A weight
/// of exactly zero gives -inf: that component never takes responsibility.
Vector<double> log_norms(const Mixture& mixture);

/// Column sums of a row-major block along its rows' contiguous memory, in a fixed order (four
/// running sums over rows i mod 4 for up to 16 columns), so the result depends on the block alone.
template <typename T>
void column_sums(const Eigen::Ref<const RowMatrix<T>>& m, Eigen::Ref<Vector<T>> out);

/// Resizes m to (r, c) unless it has that shape already (scratch reused across blocks).
template <class M>
void grow(M& m, Index r, Index c) {
  if (m.rows() != r || m.cols() != c) m.resize(r, c);
}
template <class V>
void grow(V& v, Index r) {
  if (v.size() != r) v.resize(r);
}

}  // namespace gaussmix::detail
