// A portable random stream for sampling and initialisation (internal).
#pragma once

#include <cmath>
#include <cstdint>
#include <random>

namespace gaussmix::detail {

/// mt19937_64 with the library's own uniform and normal transforms: the standard distributions
/// are implementation-defined, so using them would make draws differ between standard libraries.
class Random {
 public:
  explicit Random(std::uint64_t seed) : gen_(seed) {}

  /// Uniform in [0, 1) from the top 53 bits.
  double uniform() { return static_cast<double>(gen_() >> 11) * 0x1.0p-53; }

  /// A fresh 64-bit value (seeds for independent sub-streams).
  std::uint64_t next() { return gen_(); }

  /// Standard normal by the Box-Muller transform; the second value of each pair is kept.
  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    // 1 - u lies in (0, 1], so the logarithm is finite.
    const double radius = std::sqrt(-2.0 * std::log(1.0 - uniform()));
    const double angle = 6.283185307179586476925 * uniform();
    spare_ = radius * std::sin(angle);
    has_spare_ = true;
    return radius * std::cos(angle);
  }

 private:
  std::mt19937_64 gen_;
  double spare_ = 0.0;
  bool has_spare_ = false;
};

}  // namespace gaussmix::detail
