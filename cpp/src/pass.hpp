// What the passes over the rows share besides their kernels: input checks, sample weights per
// block, the statistics' slot budget and their merge in slot order (internal).
#pragma once

#include "gaussmix/accumulate.hpp"

#include <vector>

namespace gaussmix::detail {

/// Throws InvalidArgument unless X has n columns and w is empty or one weight per row.
template <typename T>
void check_pass_inputs(const Eigen::Ref<const RowMatrix<T>>& X, const SampleWeights& w, Index n);

/// Refuses a block of rows (its first at first_row of X) holding NaN (unless `missing`: then NaN
/// marks a value not observed), infinity, or values so large that squared distances overflow T
/// (|x| above sqrt(max / 4n)), naming the first such sample. The queries check block by block
/// inside the pass, while the rows are in cache, instead of by a separate pass over X.
template <typename T>
void check_block_values(const Eigen::Ref<const RowMatrix<T>>& xb, Index first_row, bool missing);

/// The block's weights (rows r0.., ones when w is empty) in the data's precision.
template <typename T>
void load_weights(const SampleWeights& w, Index r0, Index rows, Eigen::Ref<Vector<T>> out) {
  if (w.size() == 0) {
    out.setOnes();
  } else {
    out = w.segment(r0, rows).template cast<T>();
  }
}

/// Slot count that keeps the per-slot partial statistics within a fixed memory budget (it must
/// not depend on the thread count).
Index max_slots_for(CovarianceType type, Index k, Index n);

/// The per-slot statistics summed in slot order: the order is fixed by the row partition, not
/// by the threads, so the total does not depend on the thread count.
SufficientStats merge_in_slot_order(const std::vector<SufficientStats>& partial, CovarianceType type, Index k, Index n,
                                    const RowMatrix<double>& shift);

}  // namespace gaussmix::detail
