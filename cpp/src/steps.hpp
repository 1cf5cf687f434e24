// The EM steps without re-checking what the EM loop checked once before its first iteration
// (internal).
#pragma once

#include "gaussmix/maximize.hpp"
#include "gaussmix/prior.hpp"

namespace gaussmix::detail {

/// maximize() with options.prior already validated for the statistics' type and shape.
Mixture maximize_checked(const SufficientStats& stats, const MaximizeOptions& options);

/// log_prior() with the prior already validated for the mixture's type and shape.
double log_prior_checked(const Mixture& mixture, const Prior& prior);

}  // namespace gaussmix::detail
