// Runs code compiled for a fixed size when a size known only at run time falls in a small range.
#pragma once

#include "gaussmix/types.hpp"

#include <type_traits>
#include <utility>

namespace gaussmix::detail {

namespace fixed_size_impl {
template <int From, typename F, int... Is>
void dispatch(Index n, F&& f, std::integer_sequence<int, Is...>) {
  // The first size that matches runs; || stops the fold there.
  const bool fixed = ((n == From + Is && (f(std::integral_constant<int, From + Is>{}), true)) || ...);
  if (!fixed) f(std::integral_constant<int, 0>{});
}
}  // namespace fixed_size_impl

/// Calls f(std::integral_constant<int, N>{}) with N = n when From <= n <= To, so that f can
/// compile its short loops for that size (unrolled, in whole registers), and with N = 0, meaning
/// "any n, known at run time", otherwise.
template <int From, int To, typename F>
void with_fixed_size(Index n, F&& f) {
  static_assert(0 < From && From <= To, "sizes are positive and the range is not empty");
  fixed_size_impl::dispatch<From>(n, std::forward<F>(f), std::make_integer_sequence<int, To - From + 1>{});
}

}  // namespace gaussmix::detail
