// Numerical kernels of the core checked against the standard library, the table of covariance
// structures, and the statistics' merge.
#include "check.hpp"

#include "data.hpp"
#include "detail/exp.hpp"
#include "gaussmix/gaussmix.hpp"
#include "structures/structure.hpp"

#include <algorithm>
#include <vector>

#include <cfloat>
#include <cmath>
#include <limits>
#include <random>

using gaussmix::detail::exp_nonpositive;

GM_TEST(kernels_exp_is_within_three_ulp_of_std_exp) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> wide(-700.0, 0.0), narrow(-1.0, 0.0);
  double worst = 0.0;
  const auto compare = [&](double x) {
    const double want = std::exp(x), got = exp_nonpositive(x);
    worst = std::max(worst, std::abs(got - want) / want);
  };
  for (int i = 0; i < 200000; ++i) {
    compare(wide(rng));
    compare(narrow(rng));
  }
  // The ends of the reduced range, where |r| = ln(2) / 2, and exact points.
  for (int k = -1000; k <= 0; ++k) {
    const double centre = k * std::log(2.0);
    for (double d : {-0.3465735902799726, -0.34657, 0.0, 0.34657, 0.3465735902799726})
      if (centre + d <= 0.0 && centre + d >= -700.0) compare(centre + d);
  }
  CHECK(worst <= 3 * DBL_EPSILON);
  CHECK(exp_nonpositive(0.0) == 1.0);
  CHECK(exp_nonpositive(-0.0) == 1.0);
}

GM_TEST(kernels_exp_stays_finite_and_normal_down_to_the_clamp) {
  // The responsibilities clamp their shifted log-densities at log(DBL_MIN).
  const double lowest = std::log(std::numeric_limits<double>::min());
  for (double x : {lowest, lowest + 1e-12, -708.0, -707.5}) {
    const double got = exp_nonpositive(x), want = std::exp(x);
    CHECK(std::isfinite(got));
    CHECK(std::abs(got - want) <= 4 * DBL_EPSILON * want);
  }
}

GM_TEST(kernels_float_exp_is_within_two_ulp_of_std_exp) {
  // float's clamp is log(FLT_MIN); the reference is the double exp rounded to float.
  const float lowest = std::log(std::numeric_limits<float>::min());
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<float> wide(lowest, 0.0f), narrow(-1.0f, 0.0f);
  double worst = 0.0;
  const auto compare = [&](float x) {
    const double want = static_cast<float>(std::exp(static_cast<double>(x)));
    const double got = exp_nonpositive(x);
    CHECK(std::isfinite(got) && got > 0.0);
    worst = std::max(worst, std::abs(got - want) / want);
  };
  for (int i = 0; i < 200000; ++i) {
    compare(wide(rng));
    compare(narrow(rng));
  }
  for (int k = -126; k <= 0; ++k) {
    const float centre = static_cast<float>(k * std::log(2.0));
    for (float d : {-0.3465736f, -0.34657f, 0.0f, 0.34657f, 0.3465736f})
      if (centre + d <= 0.0f && centre + d >= lowest) compare(centre + d);
  }
  compare(lowest);
  CHECK(worst <= 2 * FLT_EPSILON);
  CHECK(exp_nonpositive(0.0f) == 1.0f);
  CHECK(exp_nonpositive(-0.0f) == 1.0f);
}

// The table of covariance structures answers for every type consistently: names parse back,
// file codes are distinct and map back, the storage shape is the public one.
GM_TEST(kernels_structure_table_is_consistent) {
  using gaussmix::CovarianceType;
  std::vector<int> codes;
  for (CovarianceType type :
       {CovarianceType::Full, CovarianceType::Tied, CovarianceType::Diag, CovarianceType::Spherical,
        CovarianceType::EII, CovarianceType::EEI, CovarianceType::EVI, CovarianceType::EEV, CovarianceType::EVV,
        CovarianceType::VEI, CovarianceType::VEE, CovarianceType::VEV, CovarianceType::EVE, CovarianceType::VVE}) {
    const gaussmix::detail::Structure& s = gaussmix::detail::structure(type);
    CHECK(s.type() == type);
    CHECK(gaussmix::parse_covariance_type(s.name()) == type);
    CHECK(gaussmix::detail::structure_named(s.name()) == &s);
    CHECK(gaussmix::detail::structure_of_file_code(s.file_code()) == &s);
    CHECK(std::find(codes.begin(), codes.end(), s.file_code()) == codes.end());
    codes.push_back(s.file_code());
    CHECK(s.storage_shape(3, 4) == gaussmix::covariance_storage_shape(type, 3, 4));
    CHECK(s.pooled() == (type == CovarianceType::Tied));
  }
  CHECK(gaussmix::detail::structure_named("XYZ") == nullptr);
  CHECK(gaussmix::detail::structure_named("VVV") == nullptr);  // Python's alias of full only
  CHECK(gaussmix::detail::structure_of_file_code(200) == nullptr);
}

// The seam in C++: statistics of two halves merged equal the pass over all rows (to rounding),
// and merging refuses statistics about other shifts.
GM_TEST(kernels_statistics_of_halves_merge_to_the_whole) {
  using gaussmix::CovarianceType;
  const gaussmix_test::Blobs data = gaussmix_test::make_blobs(3000, 11);
  const gaussmix::Index m = data.X.rows();
  for (CovarianceType type :
       {CovarianceType::Full, CovarianceType::Tied, CovarianceType::Diag, CovarianceType::Spherical}) {
    const gaussmix::GaussianMixture model = gaussmix_test::fitted_model(type);
    const gaussmix::Mixture& mix = model.mixture();
    const gaussmix::Vector<double> none;
    const auto whole = gaussmix::accumulate<double>(data.X, none, mix);
    auto merged = gaussmix::accumulate<double>(data.X.topRows(m / 3), none, mix);
    merged.merge(gaussmix::accumulate<double>(data.X.bottomRows(m - m / 3), none, mix));
    CHECK(merged.n_samples == whole.n_samples);
    CHECK(((merged.n_k - whole.n_k).cwiseAbs().array() <= 1e-9 * whole.n_k.cwiseAbs().maxCoeff()).all());
    CHECK(((merged.s2 - whole.s2).cwiseAbs().array() <= 1e-9 * whole.s2.cwiseAbs().maxCoeff()).all());
    CHECK_NEAR(merged.log_likelihood, whole.log_likelihood, 1e-9 * std::abs(whole.log_likelihood));
    auto other = whole;
    other.shift(0, 0) += 1.0;
    CHECK_THROWS(gaussmix::InvalidArgument, merged.merge(other), "different shifts");
  }
}
