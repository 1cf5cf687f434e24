// k-means++ seeding and Lloyd's k-means, used to initialise EM.
#pragma once

#include "gaussmix/accumulate.hpp"

#include <cstdint>
#include <functional>

namespace gaussmix {

struct KMeansOptions {
  int max_iter = 300;      ///< Lloyd iterations at most
  double tol = 1e-4;       ///< stop when the centres move less than tol * mean feature variance
  std::uint64_t seed = 0;  ///< seeds the k-means++ draws; same seed, same result
  int n_threads = 0;       ///< 0: the OpenMP default
};

struct KMeansResult {
  RowMatrix<double> centers;    ///< (k, n)
  Vector<std::int64_t> labels;  ///< (m) index of the closest centre
  double inertia = 0.0;         ///< weighted sum of squared distances to the closest centre
  int n_iter = 0;
};

/// One Lloyd assignment of a block of rows: what a distributed k-means sums per chunk.
struct CenterAssignment {
  Vector<std::int64_t> labels;  ///< (m) index of the closest centre (ties: the lower index)
  Vector<double> sq_distances;  ///< (m) squared distance to it
  RowMatrix<double> sums;       ///< (k, n) per centre: sum of w_i (x_i - origin) over its rows
  Vector<double> counts;        ///< (k) per centre: sum of w_i over its rows
  double inertia = 0.0;         ///< sum of w_i * sq_distances_i
};

/// Greedy k-means++ seeding (2 + log k candidates per step, weighted by sample_weight).
/// Returns the k chosen row indices. Throws InvalidArgument if fewer than k rows have weight
/// or if squared distances overflow double. `should_stop`, if given, is called on the calling
/// thread during every pass over the rows and may throw to abort.
template <typename T>
Vector<std::int64_t> kmeans_plusplus(const Eigen::Ref<const RowMatrix<T>>& X, const SampleWeights& sample_weight,
                                     Index k, std::uint64_t seed, int n_threads = 0,
                                     const std::function<void()>& should_stop = {});

/// Lloyd's algorithm from k-means++ seeds. An empty cluster is moved to the row farthest from
/// its centre. `should_stop`, if given, is called on the calling thread during every pass over
/// the rows (seeding included) and may throw to abort.
template <typename T>
KMeansResult kmeans(const Eigen::Ref<const RowMatrix<T>>& X, const SampleWeights& sample_weight, Index k,
                    const KMeansOptions& options = {}, const std::function<void()>& should_stop = {});

/// Assigns every row of X to the closest of `centers` (k, n), computing distances about
/// `origin` (a point inside the data, e.g. its mean, so that data far from 0 keep their digits),
/// as one Lloyd step of kmeans() does. Sums per slot merged in slot order: the same result for
/// any n_threads. Sums of different blocks about the same origin add up.
template <typename T>
CenterAssignment assign_to_centers(const Eigen::Ref<const RowMatrix<T>>& X, const SampleWeights& sample_weight,
                                   const RowMatrix<double>& centers, const Vector<double>& origin, int n_threads = 0,
                                   const std::function<void()>& should_stop = {});

}  // namespace gaussmix
