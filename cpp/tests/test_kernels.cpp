// Numerical kernels of the core checked against the standard library.
#include "check.hpp"

#include "detail/exp.hpp"

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
