// Test data: samples from a known, well-separated mixture.
#pragma once

#include "gaussmix/gaussmix.hpp"

namespace gaussmix_test {

/// Rows drawn from three Gaussians (weights 0.5, 0.3, 0.2) centred at (0, 0), (10, 0), (0, 10)
/// with different correlated covariances, with the true component of each row.
struct Blobs {
  gaussmix::RowMatrix<double> X;
  gaussmix::Vector<std::int64_t> truth;
  gaussmix::RowMatrix<double> centres;  ///< (3, 2)
};

Blobs make_blobs(gaussmix::Index n_samples, std::uint64_t seed);

/// A fitted model of `type` on the blobs (3 components, fixed seed).
gaussmix::GaussianMixture fitted_model(gaussmix::CovarianceType type);

}  // namespace gaussmix_test
