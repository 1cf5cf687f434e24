// The initialisation passes: moment sums for given hard labels or soft responsibilities, about
// each group's weighted mean (two passes: the means, then the moments about them).
#include "gaussmix/accumulate.hpp"
#include "gaussmix/errors.hpp"

#include "detail/parallel.hpp"
#include "kernels/kernel.hpp"
#include "pass.hpp"
#include "structures/structure.hpp"

#include <algorithm>
#include <vector>

namespace gaussmix {

namespace {

// Sums moments over all rows for responsibilities supplied block by block by fill_resp(r0, rows,
// out), about the given shifts, with the moments of the structure's kernel family.
template <typename T, class FillResp>
SufficientStats moments_pass(const Eigen::Ref<const RowMatrix<T>>& X, const SampleWeights& w, CovarianceType type,
                             const RowMatrix<double>& shift, const PassOptions& options, FillResp&& fill_resp) {
  const Index m = X.rows(), n = X.cols(), k = shift.rows();
  auto frame = std::make_shared<const detail::KernelFrame<T>>(detail::frame_about<T>(shift));
  const std::unique_ptr<detail::Kernel<T>> prototype = detail::make_moments_kernel<T>(type, k, n, frame);
  const Index B = prototype->block_rows();
  const auto part = detail::partition_rows(m, B, detail::max_slots_for(type, k, n));
  std::vector<SufficientStats> partial(part.n_slots, SufficientStats::zeros(type, k, n, frame->shift));
  struct Worker {
    std::unique_ptr<detail::Kernel<T>> kernel;
    RowMatrix<T> resp;
    Vector<T> row_weight;
  };
  detail::PerThread<Worker> workers(options.n_threads, [&] {
    return std::make_unique<Worker>(Worker{prototype->clone(), RowMatrix<T>(B, k), Vector<T>(B)});
  });
  detail::for_each_slot(
      part, options.n_threads,
      [&](Index s, Index begin, Index end) {
        Worker& worker = workers.local();
        auto& st = partial[s];
        for (Index r0 = begin; r0 < end; r0 += B) {
          detail::poll_stop(options.should_stop);
          const Index rows = std::min(B, end - r0);
          worker.kernel->load(X.middleRows(r0, rows));
          auto resp = worker.resp.topRows(rows);
          auto rw = worker.row_weight.head(rows);
          detail::load_weights<T>(w, r0, rows, rw);
          fill_resp(r0, rows, resp);
          resp.array().colwise() *= rw.array();
          rw = resp.rowwise().sum();
          st.weight_sum += static_cast<double>(rw.sum());
          st.n_samples += rows;
          worker.kernel->moments(resp, rw, st);
        }
        worker.kernel->end_slot(st);
      },
      options.should_stop);
  return detail::merge_in_slot_order(partial, type, k, n, frame->shift);
}

// One thread's buffers for labelled_moments_pass.
template <typename T>
struct LabelledScratch {
  RowMatrix<T> diff, xc, moments;
  Vector<T> row_weight;
  std::vector<Index> start, order;
  LabelledScratch(Index rows, Index k, Index n)
      : diff(rows, n), xc(rows, n), moments(n, n), row_weight(rows), start(k + 1), order(rows) {}
};

// Moments for hard labels, full or spherical: each block's rows are sorted by label and every
// component's rows summed by one product of their own differences, 2 n^2 multiply-adds per row
// instead of the 2 k n^2 of a product with one-hot responsibilities.
template <typename T>
SufficientStats labelled_moments_pass(const Eigen::Ref<const RowMatrix<T>>& X, const SampleWeights& w,
                                      const Eigen::Ref<const Vector<std::int64_t>>& labels, CovarianceType type,
                                      const RowMatrix<double>& shift, const PassOptions& options) {
  // Per-component scatter matrices (full) or their traces (spherical): see moments_from_labels.
  const bool full = detail::structure(type).moments() == detail::MomentsLayout::PerComponentMatrix;
  const Index m = X.rows(), n = X.cols(), k = shift.rows();
  const detail::KernelFrame<T> frame = detail::frame_about<T>(shift);
  const Vector<T>& centre = frame.centre;
  const RowMatrix<T>& rel_shift = frame.rel_shift;
  const RowMatrix<double>& used_shift = frame.shift;
  const Index B = detail::block_rows_for(k, n);
  const auto part = detail::partition_rows(m, B, detail::max_slots_for(type, k, n));
  std::vector<SufficientStats> partial(part.n_slots, SufficientStats::zeros(type, k, n, used_shift));
  detail::PerThread<LabelledScratch<T>> scratch(options.n_threads,
                                                [&] { return std::make_unique<LabelledScratch<T>>(B, k, n); });
  detail::for_each_slot(
      part, options.n_threads,
      [&](Index s, Index begin, Index end) {
        LabelledScratch<T>& ws = scratch.local();
        auto& st = partial[s];
        std::vector<Index>& start = ws.start;
        std::vector<Index>& order = ws.order;
        for (Index r0 = begin; r0 < end; r0 += B) {
          detail::poll_stop(options.should_stop);
          const Index rows = std::min(B, end - r0);
          // Counting sort of the block's rows by label.
          std::fill(start.begin(), start.end(), Index(0));
          for (Index i = 0; i < rows; ++i) ++start[labels[r0 + i] + 1];
          for (Index c = 0; c < k; ++c) start[c + 1] += start[c];
          for (Index i = 0; i < rows; ++i) order[start[labels[r0 + i]]++] = i;
          for (Index c = k; c > 0; --c) start[c] = start[c - 1];
          start[0] = 0;
          auto d = ws.diff.topRows(rows);
          auto wd = ws.xc.topRows(rows);
          auto rw = ws.row_weight.head(rows);
          for (Index q = 0; q < rows; ++q) {
            const Index i = order[q];
            d.row(q) = X.row(r0 + i) - centre.transpose() - rel_shift.row(labels[r0 + i]);
            rw[q] = w.size() == 0 ? T(1) : static_cast<T>(w[r0 + i]);
          }
          wd = d.array().colwise() * rw.array();
          st.weight_sum += static_cast<double>(rw.sum());
          st.n_samples += rows;
          for (Index c = 0; c < k; ++c) {
            const Index o = start[c], count = start[c + 1] - o;
            if (count == 0) continue;
            const auto dc = d.middleRows(o, count);
            const auto wdc = wd.middleRows(o, count);
            st.n_k[c] += static_cast<double>(rw.segment(o, count).sum());
            st.s1.row(c) += wdc.colwise().sum().template cast<double>();
            if (full) {
              auto S = ws.moments.topLeftCorner(n, n);
              S.noalias() = wdc.transpose() * dc;
              // The lower triangle only, as every pass keeps it (see SufficientStats).
              st.s2.middleRows(c * n, n).template triangularView<Eigen::Lower>() += S.template cast<double>();
            } else {
              st.s2(c, 0) += static_cast<double>(wdc.cwiseProduct(dc).sum());
            }
          }
        }
      },
      options.should_stop);
  return detail::merge_in_slot_order(partial, type, k, n, used_shift);
}

// Two passes for fixed assignments: the group means first, then the moments about them.
// `pass(type, shift)` sums the moments over all rows about the given shifts.
template <typename T, class Pass>
SufficientStats moments_about_group_means(const Eigen::Ref<const RowMatrix<T>>& X, const SampleWeights& w, Index k,
                                          CovarianceType type, Pass&& pass) {
  const Index n = X.cols();
  if (X.rows() == 0) throw InvalidArgument("X has no samples");
  detail::check_pass_inputs<T>(X, w, n);
  // Any point inside the data works as the first reference; row 0 keeps far-off data accurate.
  const RowMatrix<double> ref = X.row(0).template cast<double>().replicate(k, 1);
  const SufficientStats first = pass(CovarianceType::Spherical, ref);
  RowMatrix<double> means = first.shift;
  for (Index c = 0; c < k; ++c) {
    if (first.n_k[c] > 0) means.row(c) += first.s1.row(c) / first.n_k[c];
  }
  RowMatrix<double> shift = means;
  if (detail::structure(type).pooled()) {
    const double total = first.n_k.sum();
    const Vector<double> centre =
        total > 0 ? Vector<double>(means.transpose() * first.n_k / total) : Vector<double>(means.row(0).transpose());
    shift = centre.transpose().replicate(k, 1);
  }
  return pass(type, shift);
}

// Checks a caller's shifts for k components and n features (pooled types: one common point).
void check_given_shift(const RowMatrix<double>& shift, Index k, Index n, CovarianceType type) {
  if (shift.rows() != k || shift.cols() != n) throw InvalidArgument("shift must be (k, n_features)");
  if (!shift.allFinite()) throw InvalidArgument("shift must be finite");
  if (detail::structure(type).pooled() && k > 1 && !(shift.rowwise() - shift.row(0)).isZero(0.0))
    throw InvalidArgument("for a pooled covariance type every row of shift must be the same point");
}

template <typename T>
void check_labels(const Eigen::Ref<const RowMatrix<T>>& X, const Eigen::Ref<const Vector<std::int64_t>>& labels,
                  Index k) {
  if (labels.size() != X.rows()) throw InvalidArgument("labels must have one entry per sample");
  if (k < 1) throw InvalidArgument("k must be at least 1");
  if (labels.size() > 0 && (labels.minCoeff() < 0 || labels.maxCoeff() >= k))
    throw InvalidArgument("labels must lie in [0, k)");
}

template <typename T>
void check_responsibilities(const Eigen::Ref<const RowMatrix<T>>& X, const Eigen::Ref<const RowMatrix<double>>& resp) {
  if (resp.rows() != X.rows()) throw InvalidArgument("resp must have one row per sample");
  if (resp.cols() < 1) throw InvalidArgument("resp must have at least one column");
  if (!resp.allFinite() || (resp.array() < 0).any())
    throw InvalidArgument("responsibilities must be finite and non-negative");
}

// The moments for hard labels about the given shifts, one pass.
template <typename T>
SufficientStats labelled_moments(const Eigen::Ref<const RowMatrix<T>>& X, const SampleWeights& w,
                                 const Eigen::Ref<const Vector<std::int64_t>>& labels, CovarianceType t,
                                 const RowMatrix<double>& shift, const PassOptions& options) {
  const detail::MomentsLayout layout = detail::structure(t).moments();
  if (layout == detail::MomentsLayout::PerComponentMatrix || layout == detail::MomentsLayout::PerComponentTrace)
    return labelled_moments_pass<T>(X, w, labels, t, shift, options);
  const auto one_hot = [&](Index r0, Index rows, Eigen::Ref<RowMatrix<T>> out) {
    out.setZero();
    for (Index i = 0; i < rows; ++i) out(i, labels[r0 + i]) = T(1);
  };
  return moments_pass<T>(X, w, t, shift, options, one_hot);
}

// The moments for soft responsibilities about the given shifts, one pass.
template <typename T>
SufficientStats responsibility_moments(const Eigen::Ref<const RowMatrix<T>>& X, const SampleWeights& w,
                                       const Eigen::Ref<const RowMatrix<double>>& resp, CovarianceType t,
                                       const RowMatrix<double>& shift, const PassOptions& options) {
  const auto fill = [&](Index r0, Index rows, Eigen::Ref<RowMatrix<T>> out) {
    out = resp.middleRows(r0, rows).template cast<T>();
  };
  return moments_pass<T>(X, w, t, shift, options, fill);
}

}  // namespace

template <typename T>
SufficientStats moments_from_labels(const Eigen::Ref<const RowMatrix<T>>& X, const SampleWeights& w,
                                    const Eigen::Ref<const Vector<std::int64_t>>& labels, Index k, CovarianceType type,
                                    const PassOptions& options) {
  check_labels<T>(X, labels, k);
  return moments_about_group_means<T>(X, w, k, type, [&](CovarianceType t, const RowMatrix<double>& shift) {
    return labelled_moments<T>(X, w, labels, t, shift, options);
  });
}

template <typename T>
SufficientStats moments_from_labels(const Eigen::Ref<const RowMatrix<T>>& X, const SampleWeights& w,
                                    const Eigen::Ref<const Vector<std::int64_t>>& labels, Index k, CovarianceType type,
                                    const RowMatrix<double>& shift, const PassOptions& options) {
  check_labels<T>(X, labels, k);
  check_given_shift(shift, k, X.cols(), type);
  detail::check_pass_inputs<T>(X, w, X.cols());
  return labelled_moments<T>(X, w, labels, type, shift, options);
}

template <typename T>
SufficientStats moments_from_responsibilities(const Eigen::Ref<const RowMatrix<T>>& X, const SampleWeights& w,
                                              const Eigen::Ref<const RowMatrix<double>>& resp, CovarianceType type,
                                              const PassOptions& options) {
  check_responsibilities<T>(X, resp);
  return moments_about_group_means<T>(X, w, resp.cols(), type, [&](CovarianceType t, const RowMatrix<double>& shift) {
    return responsibility_moments<T>(X, w, resp, t, shift, options);
  });
}

template <typename T>
SufficientStats moments_from_responsibilities(const Eigen::Ref<const RowMatrix<T>>& X, const SampleWeights& w,
                                              const Eigen::Ref<const RowMatrix<double>>& resp, CovarianceType type,
                                              const RowMatrix<double>& shift, const PassOptions& options) {
  check_responsibilities<T>(X, resp);
  check_given_shift(shift, resp.cols(), X.cols(), type);
  detail::check_pass_inputs<T>(X, w, X.cols());
  return responsibility_moments<T>(X, w, resp, type, shift, options);
}

#define GAUSSMIX_INSTANTIATE(T)                                                                                  \
  template SufficientStats moments_from_labels<T>(const Eigen::Ref<const RowMatrix<T>>&, const SampleWeights&,   \
                                                  const Eigen::Ref<const Vector<std::int64_t>>&, Index,          \
                                                  CovarianceType, const PassOptions&);                           \
  template SufficientStats moments_from_responsibilities<T>(                                                     \
      const Eigen::Ref<const RowMatrix<T>>&, const SampleWeights&, const Eigen::Ref<const RowMatrix<double>>&,   \
      CovarianceType, const PassOptions&);                                                                       \
  template SufficientStats moments_from_labels<T>(const Eigen::Ref<const RowMatrix<T>>&, const SampleWeights&,   \
                                                  const Eigen::Ref<const Vector<std::int64_t>>&, Index,          \
                                                  CovarianceType, const RowMatrix<double>&, const PassOptions&); \
  template SufficientStats moments_from_responsibilities<T>(                                                     \
      const Eigen::Ref<const RowMatrix<T>>&, const SampleWeights&, const Eigen::Ref<const RowMatrix<double>>&,   \
      CovarianceType, const RowMatrix<double>&, const PassOptions&);
GAUSSMIX_INSTANTIATE(float)
GAUSSMIX_INSTANTIATE(double)
#undef GAUSSMIX_INSTANTIATE

}  // namespace gaussmix
