// exp() of the shifted log-densities in the responsibilities: arguments in [log(min normal), 0] only.
#pragma once

#include <cstdint>
#include <cstring>

namespace gaussmix::detail {

/// The constants of exp_nonpositive for one precision.
template <typename T>
struct ExpConstants;

template <>
struct ExpConstants<double> {
  using Bits = std::uint64_t;
  static constexpr int kMantissaBits = 52, kBias = 1023;
  static constexpr double kLog2E = 1.4426950408889634;
  // ln 2 in two parts, the first with trailing zeros so that k * part is exact (Cody and Waite).
  static constexpr double kLn2High = 0x1.62e42fefa3800p-1, kLn2Low = 0x1.ef35793c76730p-45;
  // 1/12!, 1/11!, ..., 1/2!, 1, 1: Taylor to r^12, whose next term is below 2e-16 of the sum.
  static constexpr int kDegree = 12;
  static constexpr double kTaylor[kDegree + 1] = {1.0 / 479001600.0,
                                                  1.0 / 39916800.0,
                                                  1.0 / 3628800.0,
                                                  1.0 / 362880.0,
                                                  1.0 / 40320.0,
                                                  1.0 / 5040.0,
                                                  1.0 / 720.0,
                                                  1.0 / 120.0,
                                                  1.0 / 24.0,
                                                  1.0 / 6.0,
                                                  0.5,
                                                  1.0,
                                                  1.0};
};

template <>
struct ExpConstants<float> {
  using Bits = std::uint32_t;
  static constexpr int kMantissaBits = 23, kBias = 127;
  static constexpr float kLog2E = 1.44269504f;
  static constexpr float kLn2High = 0x1.62e4p-1f, kLn2Low = 0x1.7f7d1cp-20f;
  // Taylor to r^7, whose next term is below 1e-8 of the sum.
  static constexpr int kDegree = 7;
  static constexpr float kTaylor[kDegree + 1] = {1.0f / 5040.0f, 1.0f / 720.0f, 1.0f / 120.0f, 1.0f / 24.0f,
                                                 1.0f / 6.0f,    0.5f,          1.0f,          1.0f};
};

/// exp(x) for x in [log(min normal), 0] (double: [-708.39, 0], float: [-87.34, 0]; the caller
/// clamps), within 3 units in the last place for double (about 1.5 where multiply-adds are
/// fused) and 2 for float. Written as plain arithmetic so that the compiler vectorises a loop of
/// calls for whatever instruction set it targets; Eigen's exp for double divides, and took about
/// 1.6 times as long on a Zen 4 core.
///
/// x = k ln 2 + r with |r| <= ln(2) / 2, exp(r) by its Taylor series, and the factor 2^k written
/// straight into the exponent field.
template <typename T>
#if defined(__GNUC__)
// Inlined into the callers' loops even where the inliner would decline: a call per value would
// keep the loop from vectorising, and the kernel would be three times slower than Eigen's exp.
__attribute__((always_inline))
#endif
inline T exp_nonpositive(T x) {
  using C = ExpConstants<T>;
  // Adding 1.5 * 2^mantissa rounds to the nearest integer and leaves it in the low mantissa bits.
  constexpr T kShifter = T(3) * T(typename C::Bits(1) << (C::kMantissaBits - 1));
  const T t = x * C::kLog2E + kShifter;  // x / ln 2, rounded
  const T k = t - kShifter;
  const T r = (x - k * C::kLn2High) - k * C::kLn2Low;
  T p = C::kTaylor[0];
  for (int i = 1; i <= C::kDegree; ++i) p = p * r + C::kTaylor[i];
  // The low bits of t hold k; k + bias (at least 1 here) shifted into the exponent field is 2^k.
  // The unsigned shift discards t's other bits.
  typename C::Bits bits;
  std::memcpy(&bits, &t, sizeof bits);
  const typename C::Bits exponent = (bits + C::kBias) << C::kMantissaBits;
  T scale;
  std::memcpy(&scale, &exponent, sizeof scale);
  return p * scale;
}

}  // namespace gaussmix::detail
