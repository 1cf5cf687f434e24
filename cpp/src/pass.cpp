// What the passes over the rows share (see pass.hpp).
#include "pass.hpp"

#include "gaussmix/errors.hpp"

#include <algorithm>
#include <string>

namespace gaussmix::detail {

template <typename T>
void check_pass_inputs(const Eigen::Ref<const RowMatrix<T>>& X, const SampleWeights& w, Index n) {
  if (X.cols() != n)
    throw InvalidArgument("X has " + std::to_string(X.cols()) + " features but the mixture has " + std::to_string(n));
  if (w.size() != 0 && w.size() != X.rows())
    throw InvalidArgument("sample_weight has " + std::to_string(w.size()) + " entries for " + std::to_string(X.rows()) +
                          " samples");
}

Index max_slots_for(CovarianceType type, Index k, Index n) {
  const auto shape = covariance_storage_shape(type, k, n);
  const Index bytes = 8 * (shape.first * shape.second + k * n + k + 8);
  const Index budget = Index(32) << 20;  // 32 MiB of partial sums at most
  return std::max<Index>(1, std::min<Index>(64, budget / std::max<Index>(bytes, 1)));
}

SufficientStats merge_in_slot_order(const std::vector<SufficientStats>& partial, CovarianceType type, Index k, Index n,
                                    const RowMatrix<double>& shift) {
  SufficientStats total = SufficientStats::zeros(type, k, n, shift);
  for (const auto& p : partial) total += p;
  return total;
}

template void check_pass_inputs<float>(const Eigen::Ref<const RowMatrix<float>>&, const SampleWeights&, Index);
template void check_pass_inputs<double>(const Eigen::Ref<const RowMatrix<double>>&, const SampleWeights&, Index);

}  // namespace gaussmix::detail
