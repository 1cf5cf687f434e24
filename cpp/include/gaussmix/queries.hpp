// Per-row queries on a fitted mixture (log-densities, responsibilities, scores, labels), blocked
// and threaded like accumulate(), and a diagnostic of the pruned label and score queries.
#pragma once

#include "gaussmix/accumulate.hpp"

namespace gaussmix {

/// What log_prob_pass() reduces each row's weighted log-densities to.
enum class LogProbOutput {
  WeightedLogProb,   ///< (m, k): log weight_c + log N(x | component c)
  Responsibilities,  ///< (m, k): posterior probability of each component
  ScoreSamples,      ///< (m, 1): log p(x), the log-sum-exp over components
  Labels,            ///< (m, 1): argmax component, as a double holding an integer
};

/// Per-row queries on a fitted mixture, blocked and threaded like accumulate(). Throws
/// InvalidArgument naming the first offending sample of a block for NaN, infinity, or values whose
/// squared distances would overflow T (|x| > sqrt(max(T) / 4n)).
template <typename T>
RowMatrix<double> log_prob_pass(const Eigen::Ref<const RowMatrix<T>>& X, const Mixture& mixture, LogProbOutput output,
                                const PassOptions& options = {});

/// log_prob_pass() with its results in the data's precision: float data give float results
/// (half the memory of a large predict_proba), double data the same as log_prob_pass().
template <typename T>
RowMatrix<T> log_prob_pass_native(const Eigen::Ref<const RowMatrix<T>>& X, const Mixture& mixture, LogProbOutput output,
                                  const PassOptions& options = {});

/// What pruned_query_block() found for one block of rows.
struct PrunedQueryBlock {
  Index bound_features = 0;    ///< leading features of the bound; 0: this mixture never prunes
  bool pass_prunes = false;    ///< whether a pass over all of X would prune (see pruning_pays)
  bool pruned = false;         ///< false: the pass computes this block's log-densities in full
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
