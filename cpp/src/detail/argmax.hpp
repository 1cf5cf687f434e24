// The most probable component of a row of log-densities, the labels of predict().
#pragma once

#include "gaussmix/types.hpp"

#include <Eigen/Core>

#include <cmath>
#include <cstdint>
#if defined(__AVX__)
#include <immintrin.h>
#endif

namespace gaussmix::detail {

/// Bit c set where v[c] == top, for c < min(k, 64). One vector compare per register where the
/// instruction set has them: a scalar search branches on every value, and which value holds the
/// maximum is a coin toss for the branch predictor.
template <typename T>
inline std::uint64_t equal_lanes(const T* v, Index k, T top) {
  std::uint64_t mask = 0;
  Index c = 0;
  if constexpr (std::is_same<T, double>::value) {
#if defined(__AVX512F__)
    const __m512d t = _mm512_set1_pd(top);
    for (; c + 8 <= k && c + 8 <= 64; c += 8)
      mask |= static_cast<std::uint64_t>(_mm512_cmp_pd_mask(_mm512_loadu_pd(v + c), t, _CMP_EQ_OQ)) << c;
#elif defined(__AVX__)
    const __m256d t = _mm256_set1_pd(top);
    for (; c + 4 <= k && c + 4 <= 64; c += 4)
      mask |= static_cast<std::uint64_t>(_mm256_movemask_pd(_mm256_cmp_pd(_mm256_loadu_pd(v + c), t, _CMP_EQ_OQ))) << c;
#endif
  } else {
#if defined(__AVX512F__)
    const __m512 t = _mm512_set1_ps(top);
    for (; c + 16 <= k && c + 16 <= 64; c += 16)
      mask |= static_cast<std::uint64_t>(_mm512_cmp_ps_mask(_mm512_loadu_ps(v + c), t, _CMP_EQ_OQ)) << c;
#elif defined(__AVX__)
    const __m256 t = _mm256_set1_ps(top);
    for (; c + 8 <= k && c + 8 <= 64; c += 8)
      mask |= static_cast<std::uint64_t>(_mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(v + c), t, _CMP_EQ_OQ))) << c;
#endif
  }
  for (; c < k && c < 64; ++c) mask |= static_cast<std::uint64_t>(v[c] == top) << c;
  return mask;
}

/// The first index of the largest of v[0], ..., v[k - 1] (k >= 1), or -1 where that largest is not
/// finite (every value -inf: no component gives the row any density). The maximum by a vectorised
/// reduction, then the lowest index holding it: Eigen's maxCoeff(&index) is a chain of scalar
/// compares, one per value, each waiting for the one before.
template <typename T, int K = Eigen::Dynamic>
inline Index first_max_index(const T* v, Index k) {
  const T top = Eigen::Map<const Eigen::Matrix<T, K, 1>>(v, k).maxCoeff();
  if (!std::isfinite(static_cast<double>(top))) return -1;
  for (Index c0 = 0;; c0 += 64) {
    const std::uint64_t mask = equal_lanes<T>(v + c0, k - c0, top);
    if (mask != 0) return c0 + static_cast<Index>(__builtin_ctzll(mask));
  }
}

}  // namespace gaussmix::detail
