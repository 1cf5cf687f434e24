// The kernel families, as the factory (kernel_factory.cpp) sees them: one pair of makers per
// family, defined in the family's own file (internal).
#pragma once

#include "kernels/kernel.hpp"

namespace gaussmix::detail {

/// Full covariance, n <= kSmallFeatures: full_small_kernel.cpp.
template <typename T>
std::unique_ptr<Kernel<T>> make_full_small_kernel(const Mixture&, std::shared_ptr<const KernelFrame<T>>);
template <typename T>
std::unique_ptr<Kernel<T>> make_full_small_moments_kernel(Index k, Index n, std::shared_ptr<const KernelFrame<T>>);

/// Full covariance, n > kSmallFeatures: full_fused_kernel.cpp (with the pruned queries).
template <typename T>
std::unique_ptr<Kernel<T>> make_full_fused_kernel(const Mixture&, std::shared_ptr<const KernelFrame<T>>);
template <typename T>
std::unique_ptr<Kernel<T>> make_full_fused_moments_kernel(Index k, Index n, std::shared_ptr<const KernelFrame<T>>);

/// One covariance shared by all components: tied_kernel.cpp.
template <typename T>
std::unique_ptr<Kernel<T>> make_tied_kernel(const Mixture&, std::shared_ptr<const KernelFrame<T>>);
template <typename T>
std::unique_ptr<Kernel<T>> make_tied_moments_kernel(Index k, Index n, std::shared_ptr<const KernelFrame<T>>);

/// Diagonal covariances, or (spherical) one variance per component: diag_kernel.cpp.
template <typename T>
std::unique_ptr<Kernel<T>> make_diag_kernel(const Mixture&, bool spherical, std::shared_ptr<const KernelFrame<T>>);
template <typename T>
std::unique_ptr<Kernel<T>> make_diag_moments_kernel(Index k, Index n, bool spherical,
                                                    std::shared_ptr<const KernelFrame<T>>);

}  // namespace gaussmix::detail
