// The parameters of a Gaussian mixture and the per-component log-densities they define.
#pragma once

#include "gaussmix/types.hpp"

namespace gaussmix {

/// Parameters of a fitted (or initial) mixture, always held in float64.
///
/// The precision Cholesky factor of a component is the upper-triangular U with U*U^T equal to the
/// precision matrix (the inverse covariance), as in scikit-learn. Diag and spherical store
/// 1/sqrt(variance). Covariance and factor storage follow covariance_storage_shape().
struct Mixture {
  CovarianceType covariance_type = CovarianceType::Full;
  Vector<double> weights;                 ///< (k) mixing proportions, summing to 1
  RowMatrix<double> means;                ///< (k, n)
  RowMatrix<double> covariances;          ///< see CovarianceType
  RowMatrix<double> precisions_cholesky;  ///< see CovarianceType

  Index n_components() const { return means.rows(); }
  Index n_features() const { return means.cols(); }

  /// Builds a mixture from covariances, computing the precision Cholesky factors.
  /// Throws NotPositiveDefinite naming the component when a covariance has no Cholesky factor,
  /// and InvalidArgument when shapes disagree or values are not finite.
  static Mixture from_covariances(CovarianceType type, Vector<double> weights, RowMatrix<double> means,
                                  RowMatrix<double> covariances);

  /// Builds a mixture from precision matrices (the inverse covariances, same storage layout).
  static Mixture from_precisions(CovarianceType type, Vector<double> weights, RowMatrix<double> means,
                                 const RowMatrix<double>& precisions);

  /// Precision matrices (inverse covariances) in the covariance storage layout.
  RowMatrix<double> precisions() const;

  /// log det of each component's precision Cholesky factor: (k).
  Vector<double> log_det_precision_cholesky() const;

  /// Number of free parameters, as counted by scikit-learn's bic()/aic().
  Index n_parameters() const;

  /// Throws InvalidArgument unless all arrays have consistent shapes and finite values.
  void validate() const;
};

}  // namespace gaussmix
