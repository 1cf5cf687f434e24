// The E-step fused with the moment sums (accumulate), and the log-density queries built on it.
#pragma once

#include "gaussmix/mixture.hpp"
#include "gaussmix/stats.hpp"

#include <cstdint>
#include <functional>
#include <vector>

namespace gaussmix {

/// Threading and blocking for one pass over the rows.
struct PassOptions {
  int n_threads = 0;  ///< OpenMP threads; 0 means the OpenMP default (all cores)
  /// Called now and then on the calling thread during the pass (after each slot of rows it
  /// summed); it may throw to abandon the pass, e.g. on Ctrl-C. Empty: never called.
  std::function<void()> should_stop;
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
SufficientStats moments_from_labels(const Eigen::Ref<const RowMatrix<T>>& X,
                                    const SampleWeights& sample_weight,
                                    const Eigen::Ref<const Vector<std::int64_t>>& labels, Index k,
                                    CovarianceType type, const PassOptions& options = {});

/// Moment sums for given soft responsibilities (m, k) (rows need not be normalised).
template <typename T>
SufficientStats moments_from_responsibilities(const Eigen::Ref<const RowMatrix<T>>& X,
                                              const SampleWeights& sample_weight,
                                              const Eigen::Ref<const RowMatrix<double>>& resp,
                                              CovarianceType type, const PassOptions& options = {});

/// What log_prob_pass() reduces each row's weighted log-densities to.
enum class LogProbOutput {
  WeightedLogProb,  ///< (m, k): log weight_c + log N(x | component c)
  Responsibilities, ///< (m, k): posterior probability of each component
  ScoreSamples,     ///< (m, 1): log p(x), the log-sum-exp over components
  Labels,           ///< (m, 1): argmax component, as a double holding an integer
};

/// Per-row queries on a fitted mixture, blocked and threaded like accumulate(). Throws
/// InvalidArgument naming the first offending sample of a block for NaN, infinity, or values whose
/// squared distances would overflow T (|x| > sqrt(max(T) / 4n)).
template <typename T>
RowMatrix<double> log_prob_pass(const Eigen::Ref<const RowMatrix<T>>& X, const Mixture& mixture,
                                LogProbOutput output, const PassOptions& options = {});

/// Diagnostic: the components whose float64 passes take the quadratic-feature products (full
/// covariance, 5 to 64 features, mean within a Mahalanobis distance of about 316 of the
/// mixture's centre); the others take the centred kernels. Results do not depend on it beyond
/// rounding.
std::vector<Index> quadratic_path_components(const Mixture& mixture);

/// What pruned_query_block() found for one block of rows.
struct PrunedQueryBlock {
  Index bound_features = 0;  ///< leading features of the bound; 0: this mixture never prunes
  bool pass_prunes = false;  ///< whether a pass over all of X would prune (see pruning_pays)
  bool pruned = false;       ///< false: the pass computes this block's log-densities in full
  RowMatrix<double> log_prob;  ///< pruned: (rows, k) the log-densities computed, -inf elsewhere
};

/// Diagnostic: how log_prob_pass() computes the labels (output Labels) or scores (ScoreSamples)
/// of X for a full mixture of 32 or more features: whether it prunes at all, and how it would
/// prune the first rows (at most one block of 1024), computing only the log-densities that a
/// bound from the leading features cannot rule out.
template <typename T>
PrunedQueryBlock pruned_query_block(const Eigen::Ref<const RowMatrix<T>>& X, const Mixture& mixture,
                                    LogProbOutput output);

}  // namespace gaussmix
