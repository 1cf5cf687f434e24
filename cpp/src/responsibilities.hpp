// Log-densities to responsibilities and to scores: the per-row reductions shared by the EM pass
// and the queries (internal).
#pragma once

#include "gaussmix/errors.hpp"
#include "gaussmix/queries.hpp"

#include <type_traits>

namespace gaussmix::detail {

/// A row whose every log-density is -inf or NaN: no responsibilities, no most probable component.
Error zero_density_error(Index sample);

/// Turns weighted log-probabilities (rows x k) into responsibilities in place and returns the
/// per-row log-sum-exp in `lse`; `sums` (at least rows long) is scratch. Terms below a floor
/// relative to the row's largest become exactly 0: below the smallest normal number, and, with
/// `flush` (the EM pass), already below exp(-460) (float: exp(-57)), where no sum changes
/// visibly but subnormal products later on would slow the moment products a hundredfold.
/// Throws zero_density_error naming first_row + i for a row without a finite term.
template <typename T>
void normalize_log_prob(Eigen::Ref<RowMatrix<T>> lp, Eigen::Ref<Vector<T>> lse, Eigen::Ref<Vector<T>> sums,
                        Index first_row, bool flush = false);

/// Score queries drop the terms more than this far (in log) below their row's largest; the
/// pruned queries rule out only terms beyond it.
template <typename T>
constexpr T kScoreCut = std::is_same<T, float>::value ? T(-20) : T(-40);

/// How far below a row's largest log-density a pruned query may rule terms out: labels need the
/// largest alone, scores every term within kScoreCut.
template <typename T>
T pruning_cut(LogProbOutput output) {
  return output == LogProbOutput::Labels ? T(0) : kScoreCut<T>;
}

/// The log-sum-exp of each row of lp into lse, exponentiating only the terms within kScoreCut
/// of their row's largest (gathered first into `gathered`, room for all of lp's terms, so the
/// exp runs vectorised over them alone). `kept` and `sums` (at least rows long) are scratch.
template <typename T>
void log_sum_exp_rows(const Eigen::Ref<const RowMatrix<T>>& lp, Eigen::Ref<Vector<T>> lse,
                      Eigen::Ref<Vector<Index>> kept, Eigen::Ref<Vector<T>> sums, T* __restrict gathered,
                      Index first_row);

}  // namespace gaussmix::detail
