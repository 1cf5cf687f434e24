// Filling missing values (NaN) from a fitted mixture: the conditional expectation of each row's
// missing features given its observed ones, or a draw from their conditional distribution.
#pragma once

#include "gaussmix/accumulate.hpp"

namespace gaussmix {

/// Random numbers for impute(): one uniform in [0, 1) per row (which component) and one
/// standard normal per cell (only those at the holes are used), so draws do not depend on the
/// thread count.
struct ImputeDraws {
  Eigen::Ref<const Vector<double>> uniforms;    ///< (m)
  Eigen::Ref<const RowMatrix<double>> normals;  ///< (m, n)
};

/// A copy of X (m, n) with every NaN filled under `mixture`. Without `draws`: by the
/// conditional mean, sum_c p(c | x_o) E[x_m | x_o, c], with p(c | x_o) the posterior from the
/// observed features alone (a row with nothing observed gets the mixture's mean). With them: by
/// a draw from the conditional mixture (multiple imputation). Observed values are copied
/// unchanged. Throws InvalidArgument on shape mismatch, infinity or overflowing values, and for
/// a row whose observed features have zero density under every component.
template <typename T>
RowMatrix<T> impute(const Eigen::Ref<const RowMatrix<T>>& X, const Mixture& mixture, const PassOptions& options = {},
                    const ImputeDraws* draws = nullptr);

}  // namespace gaussmix
