// impute(): the posterior of every row from its observed features, then its holes filled by
// the incomplete-rows kernel's conditional means (or draws), block by block in parallel.
#include "gaussmix/errors.hpp"
#include "gaussmix/impute.hpp"

#include "detail/parallel.hpp"
#include "kernels/incomplete_kernel.hpp"
#include "pass.hpp"
#include "responsibilities.hpp"
#include "structures/structure.hpp"

#include <string>

namespace gaussmix {

template <typename T>
RowMatrix<T> impute(const Eigen::Ref<const RowMatrix<T>>& X, const Mixture& mixture, const PassOptions& options,
                    const ImputeDraws* draws) {
  const Index m = X.rows(), n = mixture.n_features(), k = mixture.n_components();
  detail::check_pass_inputs<T>(X, Vector<double>(), n);
  if (draws != nullptr && (draws->uniforms.size() != m || draws->normals.rows() != m || draws->normals.cols() != n))
    throw InvalidArgument("impute draws need one uniform per row and one normal per cell of X");
  mixture.validate();
  auto frame = std::make_shared<const detail::KernelFrame<T>>(
      detail::frame_of<T>(mixture, detail::structure(mixture.covariance_type).pooled()));
  const std::unique_ptr<detail::Kernel<T>> prototype = detail::make_kernel<T>(mixture, frame, /*missing=*/true);
  const Index B = prototype->block_rows();
  RowMatrix<T> out = X;
  const auto part = detail::partition_rows(m, B, 64);
  struct Worker {
    std::unique_ptr<detail::Kernel<T>> kernel;
    RowMatrix<T> log_prob;
    Vector<T> lse, sums;
  };
  detail::PerThread<Worker> workers(options.n_threads, [&] {
    return std::make_unique<Worker>(Worker{prototype->clone(), RowMatrix<T>(B, k), Vector<T>(B), Vector<T>(B)});
  });
  const double* uniforms = draws != nullptr ? draws->uniforms.data() : nullptr;
  detail::for_each_slot(
      part, options.n_threads,
      [&](Index, Index begin, Index end) {
        Worker& worker = workers.local();
        auto& kernel = static_cast<detail::IncompleteKernel<T>&>(*worker.kernel);
        for (Index r0 = begin; r0 < end; r0 += B) {
          detail::poll_stop(options.should_stop);
          const Index rows = std::min(B, end - r0);
          const auto xb = X.middleRows(r0, rows);
          detail::check_block_values<T>(xb, r0, /*missing=*/true);
          if (!xb.hasNaN()) continue;  // nothing to fill: out holds the rows already
          kernel.load(xb);
          auto lp = worker.log_prob.topRows(rows);
          kernel.log_prob(lp);
          auto lse = worker.lse.head(rows);
          detail::normalize_log_prob<T>(lp, lse, worker.sums, r0, /*flush=*/false);
          if (draws == nullptr) {
            kernel.complete_rows(lp, nullptr, nullptr, out.middleRows(r0, rows));
          } else {
            const Eigen::Ref<const RowMatrix<double>> normals = draws->normals.middleRows(r0, rows);
            kernel.complete_rows(lp, uniforms + r0, &normals, out.middleRows(r0, rows));
          }
        }
      },
      options.should_stop);
  return out;
}

template RowMatrix<float> impute<float>(const Eigen::Ref<const RowMatrix<float>>&, const Mixture&, const PassOptions&,
                                        const ImputeDraws*);
template RowMatrix<double> impute<double>(const Eigen::Ref<const RowMatrix<double>>&, const Mixture&,
                                          const PassOptions&, const ImputeDraws*);

}  // namespace gaussmix
