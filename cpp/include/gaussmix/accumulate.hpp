// The E-step fused with the moment sums (accumulate) and the initialisation moments: the passes
// over the data that produce SufficientStats.
#pragma once

#include "gaussmix/mixture.hpp"
#include "gaussmix/stats.hpp"

#include <cstdint>
#include <functional>

namespace gaussmix {

/// Threading and blocking for one pass over the rows.
struct PassOptions {
  int n_threads = 0;  ///< OpenMP threads; 0 means the OpenMP default (all cores)
  /// Called now and then on the calling thread during the pass (after each slot of rows it
  /// summed); it may throw to abandon the pass, e.g. on Ctrl-C. Empty: never called.
  std::function<void()> should_stop;
  /// NaN in X marks a value that was not observed: each row's E-step uses the marginal density
  /// of its observed features, and its moments the conditional expectations of the missing
  /// ones given the observed (with the conditional covariance in the second moments), i.e. EM
  /// for incomplete data. Infinity is still refused. false: the caller promises finite data.
  bool missing = false;
};

/// Sample weights: an empty vector means every row has weight 1.
using SampleWeights = Eigen::Ref<const Vector<double>>;

/// One EM pass: responsibilities of every row under `mixture` and the weighted moment sums,
/// block by block, without ever holding the (m, k) responsibility matrix.
///
/// X is (m, n) in float or double; sample_weight is empty or (m). The result's shifts are the
/// mixture's means. Results are identical for any n_threads: rows are split into a fixed number
/// of slots that do not depend on the thread count, and slot sums are merged in slot order.
/// Throws InvalidArgument on mismatched shapes. Thread-safe for concurrent calls.
template <typename T>
SufficientStats accumulate(const Eigen::Ref<const RowMatrix<T>>& X, const SampleWeights& sample_weight,
                           const Mixture& mixture, const PassOptions& options = {});

/// Moment sums for fixed hard assignments (labels in [0, k)), with moments about the
/// weighted means of each group: the statistics k-means initialisation hands to maximize().
template <typename T>
SufficientStats moments_from_labels(const Eigen::Ref<const RowMatrix<T>>& X, const SampleWeights& sample_weight,
                                    const Eigen::Ref<const Vector<std::int64_t>>& labels, Index k, CovarianceType type,
                                    const PassOptions& options = {});

/// Moment sums for given soft responsibilities (m, k) (rows need not be normalised).
template <typename T>
SufficientStats moments_from_responsibilities(const Eigen::Ref<const RowMatrix<T>>& X,
                                              const SampleWeights& sample_weight,
                                              const Eigen::Ref<const RowMatrix<double>>& resp, CovarianceType type,
                                              const PassOptions& options = {});

/// The same moments about given shifts (k, n), in one pass, instead of about each group's mean:
/// statistics of different blocks of rows about the same shifts merge, so a distributed
/// initialisation sums them per chunk. For a pooled type (tied) every row of `shift` must be
/// the same point. The result's shift is `shift` as rounded to the data's precision.
template <typename T>
SufficientStats moments_from_labels(const Eigen::Ref<const RowMatrix<T>>& X, const SampleWeights& sample_weight,
                                    const Eigen::Ref<const Vector<std::int64_t>>& labels, Index k, CovarianceType type,
                                    const RowMatrix<double>& shift, const PassOptions& options = {});

template <typename T>
SufficientStats moments_from_responsibilities(const Eigen::Ref<const RowMatrix<T>>& X,
                                              const SampleWeights& sample_weight,
                                              const Eigen::Ref<const RowMatrix<double>>& resp, CovarianceType type,
                                              const RowMatrix<double>& shift, const PassOptions& options = {});

}  // namespace gaussmix
