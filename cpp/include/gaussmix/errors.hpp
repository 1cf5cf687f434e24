// Exceptions thrown by the library. All derive from gaussmix::Error (a std::runtime_error).
#pragma once

#include <stdexcept>
#include <Eigen/Core>

#include <string>

namespace gaussmix {

using Index = Eigen::Index;

/// Base class of every exception the library throws on purpose.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A caller passed something impossible: wrong shapes, non-finite values, bad options.
class InvalidArgument : public Error {
 public:
  using Error::Error;
};

/// A component's covariance is not positive definite even after adding reg_covar.
class NotPositiveDefinite : public Error {
 public:
  NotPositiveDefinite(Index component, const std::string& message) : Error(message), component_(component) {}
  /// Index of the offending component (0 for the shared covariance of the tied type).
  Index component() const noexcept { return component_; }

 private:
  Index component_;
};

/// A stored model file is damaged, truncated or of an unknown version.
class FormatError : public Error {
 public:
  using Error::Error;
};

/// A model file could not be opened, read or written (the message names the path and reason).
class IoError : public Error {
 public:
  using Error::Error;
};

/// A query was made on a model that has no parameters yet (fit it or load one first).
class NotFitted : public Error {
 public:
  using Error::Error;
};

}  // namespace gaussmix
