// The one place that chooses a kernel family: by the statistics a covariance structure gathers,
// the feature count, (through T) the precision, and whether rows may have missing values.
#include "kernels/incomplete_kernel.hpp"
#include "kernels/kernels.hpp"
#include "structures/structure.hpp"

#include <stdexcept>

namespace gaussmix::detail {

template <typename T>
std::unique_ptr<Kernel<T>> make_moments_kernel(CovarianceType type, Index k, Index n,
                                               std::shared_ptr<const KernelFrame<T>> frame) {
  switch (structure(type).moments()) {
    case MomentsLayout::PerComponentMatrix:
      return n <= kSmallFeatures ? make_full_small_moments_kernel<T>(k, n, std::move(frame))
                                 : make_full_fused_moments_kernel<T>(k, n, std::move(frame));
    case MomentsLayout::PooledMatrix:
      return make_tied_moments_kernel<T>(k, n, std::move(frame));
    case MomentsLayout::PerComponentDiagonal:
      return make_diag_moments_kernel<T>(k, n, false, std::move(frame));
    case MomentsLayout::PerComponentTrace:
      return make_diag_moments_kernel<T>(k, n, true, std::move(frame));
  }
  throw std::logic_error("unknown moments layout");
}

template <typename T>
std::unique_ptr<Kernel<T>> complete_kernel(const Mixture& mixture, std::shared_ptr<const KernelFrame<T>> frame) {
  switch (structure(mixture.covariance_type).moments()) {
    case MomentsLayout::PerComponentMatrix:
      return mixture.n_features() <= kSmallFeatures ? make_full_small_kernel<T>(mixture, std::move(frame))
                                                    : make_full_fused_kernel<T>(mixture, std::move(frame));
    case MomentsLayout::PooledMatrix:
      return make_tied_kernel<T>(mixture, std::move(frame));
    case MomentsLayout::PerComponentDiagonal:
      return make_diag_kernel<T>(mixture, false, std::move(frame));
    case MomentsLayout::PerComponentTrace:
      return make_diag_kernel<T>(mixture, true, std::move(frame));
  }
  throw std::logic_error("unknown moments layout");
}

template <typename T>
std::unique_ptr<Kernel<T>> make_kernel(const Mixture& mixture, std::shared_ptr<const KernelFrame<T>> frame,
                                       bool missing) {
  // The drivers validated the mixture before building the frame from it.
  std::unique_ptr<Kernel<T>> kernel = complete_kernel<T>(mixture, frame);
  if (!missing) return kernel;
  return make_incomplete_kernel<T>(mixture, std::move(kernel), std::move(frame));
}

template std::unique_ptr<Kernel<float>> make_kernel<float>(const Mixture&, std::shared_ptr<const KernelFrame<float>>,
                                                           bool);
template std::unique_ptr<Kernel<double>> make_kernel<double>(const Mixture&, std::shared_ptr<const KernelFrame<double>>,
                                                             bool);
template std::unique_ptr<Kernel<float>> make_moments_kernel<float>(CovarianceType, Index, Index,
                                                                   std::shared_ptr<const KernelFrame<float>>);
template std::unique_ptr<Kernel<double>> make_moments_kernel<double>(CovarianceType, Index, Index,
                                                                     std::shared_ptr<const KernelFrame<double>>);

}  // namespace gaussmix::detail
