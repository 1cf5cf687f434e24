// What the passes over the rows share (see pass.hpp).
#include "pass.hpp"

#include "gaussmix/errors.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <type_traits>

namespace gaussmix::detail {

template <typename T>
void check_pass_inputs(const Eigen::Ref<const RowMatrix<T>>& X, const SampleWeights& w, Index n) {
  if (X.cols() != n)
    throw InvalidArgument("X has " + std::to_string(X.cols()) + " features but the mixture has " + std::to_string(n));
  if (w.size() != 0 && w.size() != X.rows())
    throw InvalidArgument("sample_weight has " + std::to_string(w.size()) + " entries for " + std::to_string(X.rows()) +
                          " samples");
}

template <typename T>
void check_block_values(const Eigen::Ref<const RowMatrix<T>>& xb, Index first_row, bool missing) {
  const T n = static_cast<T>(std::max<Index>(xb.cols(), 1));
  const T limit = std::sqrt(std::numeric_limits<T>::max() / (T(4) * n));
  // One vectorised pass: the largest magnitude, with NaN propagated so that it fails the test too.
  if (xb.cwiseAbs().template maxCoeff<Eigen::PropagateNaN>() <= limit) return;
  const char* dtype = std::is_same<T, float>::value ? "float32" : "float64";
  for (Index i = 0; i < xb.rows(); ++i) {
    const auto row = xb.row(i);
    const std::string where = " (sample " + std::to_string(first_row + i) + ")";
    if (!missing && row.hasNaN())
      throw InvalidArgument("Input X contains NaN" + where +
                            ". GaussianMixture needs complete data: drop the rows with missing values or fill "
                            "them first (e.g. with sklearn.impute.SimpleImputer), or fit with "
                            "missing='marginalize'.");
    // With missing values allowed, NaN compares false and drops out of both tests.
    const T top = row.cwiseAbs().template maxCoeff<Eigen::PropagateNumbers>();
    if (top == std::numeric_limits<T>::infinity())
      throw InvalidArgument("Input X contains infinity or a value too large for dtype('" + std::string(dtype) + "')" +
                            where + ".");
    if (top > limit) {
      char text[256];
      std::snprintf(text, sizeof text,
                    "Input X has values up to %.3g in magnitude%s: their squared distances overflow "
                    "%s (the limit for %ld feature(s) is about %.3g). Rescale the data (e.g. divide "
                    "by its standard deviation)%s.",
                    static_cast<double>(top), where.c_str(), dtype, static_cast<long>(xb.cols()),
                    static_cast<double>(limit), std::is_same<T, float>::value ? " or pass float64 data" : "");
      throw InvalidArgument(text);
    }
  }
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

template void check_block_values<float>(const Eigen::Ref<const RowMatrix<float>>&, Index, bool);
template void check_block_values<double>(const Eigen::Ref<const RowMatrix<double>>&, Index, bool);
template void check_pass_inputs<float>(const Eigen::Ref<const RowMatrix<float>>&, const SampleWeights&, Index);
template void check_pass_inputs<double>(const Eigen::Ref<const RowMatrix<double>>&, const SampleWeights&, Index);

}  // namespace gaussmix::detail
