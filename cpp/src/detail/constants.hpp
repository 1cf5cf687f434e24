// Numeric constants that several parts of the core share (internal).
#pragma once

namespace gaussmix::detail {

/// log(2 pi), the normal density's constant per dimension.
inline constexpr double kLog2Pi = 1.8378770664093454835606594728112;

}  // namespace gaussmix::detail
