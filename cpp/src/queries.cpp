// The per-row queries (log_prob_pass): log-densities of every block by its thread's kernel,
// reduced to what was asked for (weighted log-densities, responsibilities, scores, labels).
#include "gaussmix/errors.hpp"
#include "gaussmix/queries.hpp"

#include "detail/argmax.hpp"
#include "detail/parallel.hpp"
#include "kernels/full_factors.hpp"
#include "kernels/kernel.hpp"
#include "kernels/pruned_query.hpp"
#include "pass.hpp"
#include "responsibilities.hpp"
#include "structures/structure.hpp"

#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <type_traits>

namespace gaussmix {

namespace {

// One thread's share of a query pass: its kernel and the buffers of the reductions.
template <typename T>
struct QueryWorker {
  std::unique_ptr<detail::Kernel<T>> kernel;
  RowMatrix<T> log_prob, gathered;  // (block rows, k): log-densities; the score reduction's terms
  Vector<T> lse, sums;
  Vector<Index> kept;

  QueryWorker(const detail::Kernel<T>& prototype, Index k)
      : kernel(prototype.clone()),
        log_prob(prototype.query_rows(), k),
        gathered(prototype.query_rows(), k),
        lse(prototype.query_rows()),
        sums(prototype.query_rows()),
        kept(prototype.query_rows()) {}
};

template <typename T>
std::shared_ptr<const detail::KernelFrame<T>> query_frame(const Mixture& mixture) {
  return std::make_shared<const detail::KernelFrame<T>>(
      detail::frame_of<T>(mixture, detail::structure(mixture.covariance_type).pooled()));
}

// The query pass, its results in Out (double, or the data's own precision).
template <typename T, typename Out>
RowMatrix<Out> query_pass(const Eigen::Ref<const RowMatrix<T>>& X, const Mixture& mixture, LogProbOutput output,
                          const PassOptions& options) {
  const Index m = X.rows(), n = mixture.n_features(), k = mixture.n_components();
  detail::check_pass_inputs<T>(X, Vector<double>(), n);
  mixture.validate();
  const std::unique_ptr<detail::Kernel<T>> prototype =
      detail::make_kernel<T>(mixture, query_frame<T>(mixture), options.missing);
  prototype->plan_query(X, output);
  const bool per_component = output == LogProbOutput::WeightedLogProb || output == LogProbOutput::Responsibilities;
  RowMatrix<Out> out(m, per_component ? k : 1);
  const Index block = prototype->query_rows();
  // No reduction across rows here, so any split works; this one balances the load.
  const auto part = detail::partition_rows(m, block, 64);
  detail::PerThread<QueryWorker<T>> workers(options.n_threads,
                                            [&] { return std::make_unique<QueryWorker<T>>(*prototype, k); });
  detail::for_each_slot(
      part, options.n_threads,
      [&](Index, Index begin, Index end) {
        QueryWorker<T>& worker = workers.local();
        for (Index r0 = begin; r0 < end; r0 += block) {
          detail::poll_stop(options.should_stop);
          const Index rows = std::min(block, end - r0);
          const auto xb = X.middleRows(r0, rows);
          detail::check_block_values<T>(xb, r0, options.missing);
          auto lp = worker.log_prob.topRows(rows);
          // Labels straight from a family's fused route only into doubles (see log_prob_pass_native).
          double* labels = nullptr;
          if constexpr (std::is_same<Out, double>::value)
            if (output == LogProbOutput::Labels) labels = &out(r0, 0);
          const auto q = worker.kernel->query(xb, lp, labels);
          if (q.bad_row >= 0) throw detail::zero_density_error(r0 + q.bad_row);
          if (q.labelled) continue;
          switch (output) {
            case LogProbOutput::WeightedLogProb:
              out.middleRows(r0, rows) = lp.template cast<Out>();
              break;
            case LogProbOutput::Labels:
              for (Index i = 0; i < rows; ++i) {
                const Index best = detail::first_max_index<T>(lp.data() + i * lp.outerStride(), lp.cols());
                // Without this, argmax would silently answer 0 for such a row.
                if (best < 0) throw detail::zero_density_error(r0 + i);
                out(r0 + i, 0) = static_cast<Out>(best);
              }
              break;
            case LogProbOutput::Responsibilities: {
              auto lse = worker.lse.head(rows);
              detail::normalize_log_prob<T>(lp, lse, worker.sums, r0, /*flush=*/false);
              out.middleRows(r0, rows) = lp.template cast<Out>();
              break;
            }
            case LogProbOutput::ScoreSamples: {
              auto lse = worker.lse.head(rows);
              detail::log_sum_exp_rows<T>(lp, lse, worker.kept, worker.sums, worker.gathered.data(), r0);
              out.middleRows(r0, rows) = lse.template cast<Out>();
              break;
            }
          }
        }
      },
      options.should_stop);
  return out;
}

}  // namespace

template <typename T>
RowMatrix<double> log_prob_pass(const Eigen::Ref<const RowMatrix<T>>& X, const Mixture& mixture, LogProbOutput output,
                                const PassOptions& options) {
  return query_pass<T, double>(X, mixture, output, options);
}

template <typename T>
RowMatrix<T> log_prob_pass_native(const Eigen::Ref<const RowMatrix<T>>& X, const Mixture& mixture, LogProbOutput output,
                                  const PassOptions& options) {
  // Labels are small integers, exact in either precision; they come from the double pass, where
  // the fused routes write them.
  if (output == LogProbOutput::Labels) return log_prob_pass<T>(X, mixture, output, options).template cast<T>();
  return query_pass<T, T>(X, mixture, output, options);
}

template <typename T>
PrunedQueryBlock pruned_query_block(const Eigen::Ref<const RowMatrix<T>>& X, const Mixture& mixture,
                                    LogProbOutput output) {
  if (output != LogProbOutput::Labels && output != LogProbOutput::ScoreSamples)
    throw InvalidArgument("only label and score queries are pruned");
  detail::check_pass_inputs<T>(X, Vector<double>(), mixture.n_features());
  mixture.validate();
  PrunedQueryBlock result;
  // Only full covariances with more than a few features have the factors the bound needs.
  if (detail::structure(mixture.covariance_type).moments() != detail::MomentsLayout::PerComponentMatrix ||
      mixture.n_features() <= detail::kSmallFeatures)
    return result;
  const detail::FullFactors<T> factors(mixture, *query_frame<T>(mixture));
  result.bound_features = detail::pruning_features(factors, output == LogProbOutput::ScoreSamples);
  if (result.bound_features == 0) return result;
  const Index rows = std::min(X.rows(), detail::kPrunedBlockRows);
  detail::check_block_values<T>(X.topRows(rows), 0, false);
  detail::PrunedWorkspace<T> ws;
  ws.reserve(factors, result.bound_features);
  const T cut = detail::pruning_cut<T>(output);
  result.pass_prunes = detail::pruning_pays<T>(factors, result.bound_features, cut, X, ws);
  auto lp = ws.log_prob.topRows(rows);
  result.pruned = detail::pruned_log_prob_block<T>(factors, result.bound_features, cut, X.topRows(rows), ws, lp);
  if (result.pruned) result.log_prob = lp.template cast<double>();
  return result;
}

#define GAUSSMIX_INSTANTIATE(T)                                                                                       \
  template RowMatrix<double> log_prob_pass<T>(const Eigen::Ref<const RowMatrix<T>>&, const Mixture&, LogProbOutput,   \
                                              const PassOptions&);                                                    \
  template RowMatrix<T> log_prob_pass_native<T>(const Eigen::Ref<const RowMatrix<T>>&, const Mixture&, LogProbOutput, \
                                                const PassOptions&);                                                  \
  template PrunedQueryBlock pruned_query_block<T>(const Eigen::Ref<const RowMatrix<T>>&, const Mixture&, LogProbOutput);
GAUSSMIX_INSTANTIATE(float)
GAUSSMIX_INSTANTIATE(double)
#undef GAUSSMIX_INSTANTIATE

}  // namespace gaussmix
