// exp() of the shifted log-densities in the responsibilities: arguments in [log(min normal), 0] only.
#pragma once

#include <cstdint>
#include <cstring>

namespace gaussmix::detail {

/// exp(x) for x in [log(DBL_MIN), 0] = [-708.39, 0] (the caller clamps), within 3 units in the
/// last place (about 1.5 where multiply-adds are fused). Written as plain arithmetic so that the
/// compiler vectorises a loop of calls for whatever instruction set it targets; Eigen's exp for
/// double divides, and took about 1.6 times as long on a Zen 4 core.
///
/// x = k ln 2 + r with |r| <= ln(2) / 2, exp(r) by its Taylor series to r^12 (the next term is
/// below 2e-16 of the sum), and the factor 2^k written straight into a double's exponent.
#if defined(__GNUC__)
// Inlined into the callers' loops even where the inliner would decline: a call per value would
// keep the loop from vectorising, and the kernel would be three times slower than Eigen's exp.
__attribute__((always_inline))
#endif
inline double exp_nonpositive(double x) {
  // Adding 1.5 * 2^52 rounds to the nearest integer and leaves it in the low mantissa bits.
  constexpr double kShifter = 0x1.8p52;
  const double t = x * 1.4426950408889634 + kShifter;  // x / ln 2, rounded
  const double k = t - kShifter;
  // ln 2 in two parts, the first with trailing zeros so that k * part is exact (Cody and Waite).
  const double r = (x - k * 0x1.62e42fefa3800p-1) - k * 0x1.ef35793c76730p-45;
  double p = 1.0 / 479001600.0;  // 1/12!
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  // The low bits of t hold k; k + 1023 (between 1 and 1023 here) shifted into the exponent
  // field is 2^k. The unsigned shift discards t's other bits.
  std::uint64_t bits;
  std::memcpy(&bits, &t, sizeof bits);
  const std::uint64_t exponent = (bits + 1023) << 52;
  double scale;
  std::memcpy(&scale, &exponent, sizeof scale);
  return p * scale;
}

/// The same for float: exp(x) for x in [log(FLT_MIN), 0] = [-87.34, 0], within 2 units in the
/// last place, by the same steps in float arithmetic (Taylor series to r^7, whose next term is
/// below 1e-8 of the sum).
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
inline float exp_nonpositive(float x) {
  constexpr float kShifter = 0x1.8p23f;
  const float t = x * 1.44269504f + kShifter;
  const float k = t - kShifter;
  const float r = (x - k * 0x1.62e4p-1f) - k * 0x1.7f7d1cp-20f;
  float p = 1.0f / 5040.0f;
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  std::uint32_t bits;
  std::memcpy(&bits, &t, sizeof bits);
  const std::uint32_t exponent = (bits + 127) << 23;
  float scale;
  std::memcpy(&scale, &exponent, sizeof scale);
  return p * scale;
}

}  // namespace gaussmix::detail
