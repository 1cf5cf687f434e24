// accumulate(): the EM pass. The E-step and the moment sums of every block of rows in one go,
// slot by slot in parallel, each thread with its own kernel (kernels/kernel.hpp); the slots'
// statistics merged in slot order.
#include "gaussmix/accumulate.hpp"
#include "gaussmix/errors.hpp"

#include "detail/parallel.hpp"
#include "kernels/kernel.hpp"
#include "pass.hpp"
#include "responsibilities.hpp"
#include "structures/structure.hpp"

#include <vector>

namespace gaussmix {

namespace {

// One thread's share of the pass: its kernel and the per-block buffers of the E-step.
template <typename T>
struct EmWorker {
  std::unique_ptr<detail::Kernel<T>> kernel;
  RowMatrix<T> log_prob;  // (block rows, k) log-densities, then responsibilities
  Vector<T> lse, row_weight, sums;

  EmWorker(const detail::Kernel<T>& prototype, Index k)
      : kernel(prototype.clone()),
        log_prob(prototype.block_rows(), k),
        lse(prototype.block_rows()),
        row_weight(prototype.block_rows()),
        sums(prototype.block_rows()) {}
};

}  // namespace

template <typename T>
SufficientStats accumulate(const Eigen::Ref<const RowMatrix<T>>& X, const SampleWeights& w, const Mixture& mixture,
                           const PassOptions& options) {
  const Index m = X.rows(), n = mixture.n_features(), k = mixture.n_components();
  detail::check_pass_inputs<T>(X, w, n);
  mixture.validate();
  const CovarianceType type = mixture.covariance_type;
  // Every component's moments about its own mean, or, for a pooled structure (tied, which keeps
  // one total second moment), about the common centre.
  auto frame =
      std::make_shared<const detail::KernelFrame<T>>(detail::frame_of<T>(mixture, detail::structure(type).pooled()));
  const std::unique_ptr<detail::Kernel<T>> prototype = detail::make_kernel<T>(mixture, frame, options.missing);
  const Index B = prototype->block_rows();
  const auto part = detail::partition_rows(m, B, detail::max_slots_for(type, k, n));
  std::vector<SufficientStats> partial(part.n_slots, SufficientStats::zeros(type, k, n, frame->shift));
  detail::PerThread<EmWorker<T>> workers(options.n_threads,
                                         [&] { return std::make_unique<EmWorker<T>>(*prototype, k); });
  detail::for_each_slot(
      part, options.n_threads,
      [&](Index s, Index begin, Index end) {
        EmWorker<T>& worker = workers.local();
        detail::Kernel<T>& kernel = *worker.kernel;
        SufficientStats& st = partial[s];
        for (Index r0 = begin; r0 < end; r0 += B) {
          detail::poll_stop(options.should_stop);
          const Index rows = std::min(B, end - r0);
          kernel.load(X.middleRows(r0, rows));
          auto lp = worker.log_prob.topRows(rows);
          kernel.log_prob(lp);
          auto lse = worker.lse.head(rows);
          detail::normalize_log_prob<T>(lp, lse, worker.sums, r0, /*flush=*/true);
          auto rw = worker.row_weight.head(rows);
          detail::load_weights<T>(w, r0, rows, rw);
          lp.array().colwise() *= rw.array();
          st.log_likelihood += static_cast<double>(rw.dot(lse));
          st.weight_sum += static_cast<double>(rw.sum());
          st.n_samples += rows;
          kernel.moments(lp, rw, st);
        }
        kernel.end_slot(st);
      },
      options.should_stop);
  return detail::merge_in_slot_order(partial, type, k, n, frame->shift);
}

template SufficientStats accumulate<float>(const Eigen::Ref<const RowMatrix<float>>&, const SampleWeights&,
                                           const Mixture&, const PassOptions&);
template SufficientStats accumulate<double>(const Eigen::Ref<const RowMatrix<double>>&, const SampleWeights&,
                                            const Mixture&, const PassOptions&);

}  // namespace gaussmix
