// Test data: samples from a known, well-separated mixture.
#include "data.hpp"

#include "detail/random.hpp"

namespace gaussmix_test {

using namespace gaussmix;

Blobs make_blobs(Index n_samples, std::uint64_t seed) {
  detail::Random rng(seed);
  Blobs b;
  b.centres.resize(3, 2);
  b.centres << 0.0, 0.0, 10.0, 0.0, 0.0, 10.0;
  // Lower-triangular factors: the covariance of component c is A_c A_c^T.
  const double factors[3][3] = {{1.0, 0.5, 0.8}, {0.6, -0.3, 1.2}, {1.5, 0.0, 0.4}};
  const double weights[3] = {0.5, 0.3, 0.2};
  b.X.resize(n_samples, 2);
  b.truth.resize(n_samples);
  Index row = 0;
  for (Index c = 0; c < 3; ++c) {
    const Index count = c == 2 ? n_samples - row : static_cast<Index>(weights[c] * n_samples);
    for (Index i = 0; i < count; ++i, ++row) {
      const double z0 = rng.normal(), z1 = rng.normal();
      b.X(row, 0) = b.centres(c, 0) + factors[c][0] * z0;
      b.X(row, 1) = b.centres(c, 1) + factors[c][1] * z0 + factors[c][2] * z1;
      b.truth[row] = c;
    }
  }
  return b;
}

GaussianMixture fitted_model(CovarianceType type) {
  FitOptions options;
  options.n_components = 3;
  options.covariance_type = type;
  options.seed = 7;
  return fit(make_blobs(600, 1).X, options);
}

}  // namespace gaussmix_test
