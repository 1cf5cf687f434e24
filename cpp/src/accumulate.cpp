// The blocked, threaded passes over the rows: accumulate (E-step + moments), moments for fixed
// assignments, and per-row log-density queries.
#include "gaussmix/accumulate.hpp"
#include "gaussmix/detail/argmax.hpp"
#include "gaussmix/detail/covariance.hpp"
#include "gaussmix/detail/exp.hpp"
#include "gaussmix/detail/fixed_size.hpp"
#include "gaussmix/detail/parallel.hpp"
#include "gaussmix/detail/pruned_query.hpp"
#include "gaussmix/errors.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

namespace gaussmix {

namespace {

template <typename T>
void check_inputs(const Eigen::Ref<const RowMatrix<T>>& X, const SampleWeights& w, Index n) {
  if (X.cols() != n)
    throw InvalidArgument("X has " + std::to_string(X.cols()) + " features but the mixture has " +
                          std::to_string(n));
  if (w.size() != 0 && w.size() != X.rows())
    throw InvalidArgument("sample_weight has " + std::to_string(w.size()) + " entries for " +
                          std::to_string(X.rows()) + " samples");
}

template <typename T>
void load_weights(const SampleWeights& w, Index r0, Index rows, Eigen::Ref<Vector<T>> out) {
  if (w.size() == 0) {
    out.setOnes();
  } else {
    out = w.segment(r0, rows).template cast<T>();
  }
}

// Component counts up to this get the per-row loops of normalize_log_prob compiled for their size.
constexpr int kFixedRowComponents = 16;

// A row whose every log-density is -inf or NaN: no responsibilities and no most probable component.
Error zero_density_error(Index sample) {
  return Error("sample " + std::to_string(sample) +
               " has zero density under every component (its Mahalanobis distance overflows); "
               "rescale the data or increase reg_covar");
}

// exp of `size` clamped, shifted log-densities in place: the range-restricted kernel of
// detail/exp.hpp, in either precision; results below `cut` become exactly 0.
template <typename T>
void exp_in_place(T* v, Index size, T cut) {
  for (Index i = 0; i < size; ++i) {
    const T e = detail::exp_nonpositive(v[i]);
    v[i] = e < cut ? T(0) : e;
  }
}

// Turns weighted log-probabilities (rows x k) into responsibilities in place and returns the
// per-row log-sum-exp in `lse`. Subtracting the row maximum keeps exp() in range. `sums` (at
// least rows long) is scratch for the row sums. (Score queries, which want `lse` alone, take
// log_sum_exp_rows.)
//
// Terms below a floor (relative to the row's largest) become exactly 0: below the smallest normal
// number, because Eigen's vectorised exp clamps differently on different instruction sets and
// would otherwise leave a far component a subnormal sliver of responsibility on some machines
// only; and, with `flush` (the EM pass), already below exp(-460) (float: exp(-57)), where no sum
// changes visibly but subnormal products later on would slow the moment products a hundredfold.

template <typename T>
void normalize_log_prob(Eigen::Ref<RowMatrix<T>> lp, Eigen::Ref<Vector<T>> lse,
                        Eigen::Ref<Vector<T>> sums, Index first_row, bool flush = false) {
  const Index rows = lp.rows(), k = lp.cols();
  const T floor = flush ? (std::is_same<T, float>::value ? T(-57) : T(-460))
                        : T(std::log(std::numeric_limits<T>::min()));
  // Row by row on a plain array map: Eigen's row-wise reductions over the block cost a setup per
  // row that dominates when k is small, and for k up to 16 the map's size is compiled in, so the
  // reductions unroll. The shifted terms are clamped at the floor here so the exp below is a
  // plain pass over the block.
  detail::with_fixed_size<1, kFixedRowComponents>(k, [&](auto fixed) {
    constexpr int N = decltype(fixed)::value;
    using RowArray = Eigen::Map<Eigen::Array<T, N == 0 ? Eigen::Dynamic : N, 1>>;
    for (Index i = 0; i < rows; ++i) {
      RowArray row(lp.row(i).data(), k);
      const T mx = row.maxCoeff();
      if (!std::isfinite(static_cast<double>(mx))) throw zero_density_error(first_row + i);
      row = (row - mx).max(floor);
      lse[i] = mx;
    }
    // The vectorised exp, the clamped terms (which come out near exp(floor), a normal number)
    // set to zero in the same loop.
    const T cut = T(2) * std::exp(floor);
    if (lp.outerStride() == lp.cols()) {
      // Contiguous: one flat array, so the exp vectorises even when rows are shorter than a
      // vector register (few components).
      exp_in_place(lp.data(), lp.size(), cut);
    } else {
      for (Index i = 0; i < rows; ++i) exp_in_place(lp.row(i).data(), k, cut);
    }
    for (Index i = 0; i < rows; ++i) {
      RowArray row(lp.row(i).data(), k);
      sums[i] = row.sum();
      row *= T(1) / sums[i];
    }
  });
  lse.array() += sums.head(rows).array().log();
}

// Score queries drop the terms more than this far (in log) below their row's largest; see
// log_sum_exp_rows. The pruned queries rule out only terms beyond it.
template <typename T>
constexpr T kScoreCut = std::is_same<T, float>::value ? T(-20) : T(-40);

// How far below a row's largest log-density a pruned query may rule terms out: labels need the
// largest alone, scores every term within kScoreCut.
template <typename T>
T pruning_cut(LogProbOutput output) {
  return output == LogProbOutput::Labels ? T(0) : kScoreCut<T>;
}

// The log-sum-exp of each row of a block of weighted log-probabilities, for score queries, which
// need no responsibilities. Only terms within `cut` of their row's largest are exponentiated: the
// rest add less than k e^cut, relative, to a sum of at least 1 (e^-40 in double, e^-20 in
// float: below the sum's rounding for any practical k). The kept terms are first gathered in row
// order into `gathered` (room for all of lp's terms), so the exp runs vectorised over them alone:
// for well-separated clusters most of a row's terms are far below its largest (85% on config C),
// and this step took 40% less time than exponentiating every term (gathering in place, into lp
// itself, saved nothing: the compiler then reloaded every term after each store). `kept` and
// `sums` (at least rows long) are scratch. NaN terms are kept, so they reach the result as
// before.
template <typename T>
void log_sum_exp_rows(const Eigen::Ref<const RowMatrix<T>>& lp, Eigen::Ref<Vector<T>> lse,
                      Eigen::Ref<Vector<Index>> kept, Eigen::Ref<Vector<T>> sums, T* __restrict gathered,
                      Index first_row) {
  const Index rows = lp.rows(), k = lp.cols();
  const T cut = kScoreCut<T>;
  Index q = 0;
  for (Index i = 0; i < rows; ++i) {
    const T* row = lp.data() + i * lp.outerStride();
    const T mx = Eigen::Map<const Vector<T>>(row, k).maxCoeff();
    if (!std::isfinite(static_cast<double>(mx))) throw zero_density_error(first_row + i);
    lse[i] = mx;
    const Index start = q;
    for (Index c = 0; c < k; ++c) {
      const T v = row[c] - mx;
      gathered[q] = v;
      q += !(v <= cut);
    }
    kept[i] = q - start;
  }
  exp_in_place(gathered, q, T(0));
  q = 0;
  for (Index i = 0; i < rows; ++i) {
    T s = T(0);
    for (Index t = 0; t < kept[i]; ++t) s += gathered[q++];
    sums[i] = s;
  }
  lse.head(rows).array() += sums.head(rows).array().log();
}

// The per-slot statistics summed in slot order: the order is fixed by the row partition, not by
// the threads, so the total does not depend on the thread count.
SufficientStats merge_in_slot_order(const std::vector<SufficientStats>& partial, CovarianceType type,
                                    Index k, Index n, const RowMatrix<double>& shift) {
  SufficientStats total = SufficientStats::zeros(type, k, n, shift);
  for (const auto& p : partial) total += p;
  return total;
}

// Shifts for an init-time moment pass in precision T. The rows are centred in T, so the centre
// must be a T value: computed in double, rounded to T, and the shifts taken relative to that
// rounded point. used_shift, reported with the stats, is then exactly the points the moments
// were taken about (for float data far from the origin the rounding of the centre is larger
// than the data's spread).
template <typename T>
struct RoundedShifts {
  Vector<T> centre;
  RowMatrix<T> rel_shift;
  RowMatrix<double> used_shift;

  explicit RoundedShifts(const RowMatrix<double>& shift)
      : centre(Vector<double>(shift.colwise().mean().transpose()).cast<T>()) {
    const Vector<double> centre_d = centre.template cast<double>();
    rel_shift = (shift.rowwise() - centre_d.transpose()).template cast<T>();
    used_shift = rel_shift.template cast<double>().rowwise() + centre_d.transpose();
  }
};

// Sums moments over all rows for responsibilities supplied block by block by fill_resp(r0, rows,
// out), about the given shifts. The common driver of the init-time moment passes.
template <typename T, class FillResp>
SufficientStats moments_pass(const Eigen::Ref<const RowMatrix<T>>& X, const SampleWeights& w,
                             CovarianceType type, const RowMatrix<double>& shift,
                             const PassOptions& options, FillResp&& fill_resp) {
  const Index m = X.rows(), n = X.cols(), k = shift.rows();
  const RoundedShifts<T> rounded(shift);
  const Vector<T>& centre = rounded.centre;
  const RowMatrix<T>& rel_shift = rounded.rel_shift;
  const RowMatrix<double>& used_shift = rounded.used_shift;
  const Index B = detail::block_rows_for(k, n);
  const auto part = detail::partition_rows(m, B, detail::max_slots_for(type, k, n));
  std::vector<SufficientStats> partial(part.n_slots, SufficientStats::zeros(type, k, n, used_shift));
  detail::for_each_slot(part, options.n_threads, [&](Index s, Index begin, Index end) {
    auto& ws = detail::thread_workspace<T>(B, k, n);
    auto& st = partial[s];
    for (Index r0 = begin; r0 < end; r0 += B) {
      detail::poll_stop(options.should_stop);
      const Index rows = std::min(B, end - r0);
      auto xc = ws.xc.topRows(rows);
      xc = X.middleRows(r0, rows).rowwise() - centre.transpose();
      auto resp = ws.resp.topRows(rows);
      auto rw = ws.row_weight.head(rows);
      load_weights<T>(w, r0, rows, rw);
      fill_resp(r0, rows, resp);
      resp.array().colwise() *= rw.array();
      rw = resp.rowwise().sum();
      st.weight_sum += static_cast<double>(rw.sum());
      st.n_samples += rows;
      detail::accumulate_moments_block<T>(type, xc, resp, rw, rel_shift, ws, st);
    }
    detail::flush_moments<T>(rel_shift, ws, st);
  }, options.should_stop);
  return merge_in_slot_order(partial, type, k, n, used_shift);
}

// Moments for hard labels, full or spherical: each block's rows are sorted by label and every
// component's rows summed by one product of their own differences, 2 n^2 multiply-adds per row
// instead of the 2 k n^2 of a product with one-hot responsibilities.
template <typename T>
SufficientStats labelled_moments_pass(const Eigen::Ref<const RowMatrix<T>>& X, const SampleWeights& w,
                                      const Eigen::Ref<const Vector<std::int64_t>>& labels,
                                      CovarianceType type, const RowMatrix<double>& shift,
                                      const PassOptions& options) {
  const Index m = X.rows(), n = X.cols(), k = shift.rows();
  const RoundedShifts<T> rounded(shift);
  const Vector<T>& centre = rounded.centre;
  const RowMatrix<T>& rel_shift = rounded.rel_shift;
  const RowMatrix<double>& used_shift = rounded.used_shift;
  const Index B = detail::block_rows_for(k, n);
  const auto part = detail::partition_rows(m, B, detail::max_slots_for(type, k, n));
  std::vector<SufficientStats> partial(part.n_slots, SufficientStats::zeros(type, k, n, used_shift));
  detail::for_each_slot(part, options.n_threads, [&](Index s, Index begin, Index end) {
    auto& ws = detail::thread_workspace<T>(B, k, n);
    auto& st = partial[s];
    std::vector<Index> start(k + 1), order(B);
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
        if (type == CovarianceType::Full) {
          auto S = ws.moments.topLeftCorner(n, n);
          S.noalias() = wdc.transpose() * dc;
          st.s2.middleRows(c * n, n) += S.template cast<double>();
        } else {
          st.s2(c, 0) += static_cast<double>(wdc.cwiseProduct(dc).sum());
        }
      }
    }
  }, options.should_stop);
  return merge_in_slot_order(partial, type, k, n, used_shift);
}

// Two passes for fixed assignments: the group means first, then the moments about them.
// `pass(type, shift)` sums the moments over all rows about the given shifts.
template <typename T, class Pass>
SufficientStats moments_about_group_means(const Eigen::Ref<const RowMatrix<T>>& X,
                                          const SampleWeights& w, Index k, CovarianceType type,
                                          Pass&& pass) {
  const Index n = X.cols();
  if (X.rows() == 0) throw InvalidArgument("X has no samples");
  check_inputs<T>(X, w, n);
  // Any point inside the data works as the first reference; row 0 keeps far-off data accurate.
  const RowMatrix<double> ref = X.row(0).template cast<double>().replicate(k, 1);
  const SufficientStats first = pass(CovarianceType::Spherical, ref);
  RowMatrix<double> means = first.shift;
  for (Index c = 0; c < k; ++c) {
    if (first.n_k[c] > 0) means.row(c) += first.s1.row(c) / first.n_k[c];
  }
  RowMatrix<double> shift = means;
  if (type == CovarianceType::Tied) {
    const double total = first.n_k.sum();
    const Vector<double> centre = total > 0 ? Vector<double>(means.transpose() * first.n_k / total)
                                            : Vector<double>(means.row(0).transpose());
    shift = centre.transpose().replicate(k, 1);
  }
  return pass(type, shift);
}

}  // namespace

template <typename T>
SufficientStats accumulate(const Eigen::Ref<const RowMatrix<T>>& X, const SampleWeights& w,
                           const Mixture& mixture, const PassOptions& options) {
  const Index m = X.rows(), n = mixture.n_features(), k = mixture.n_components();
  check_inputs<T>(X, w, n);
  const detail::Prepared<T> prep = detail::prepare<T>(mixture);
  const CovarianceType type = mixture.covariance_type;

  // Full, diag and spherical take each component's moments about its own mean; tied about the
  // common centre (it keeps one total second moment, see SufficientStats).
  RowMatrix<double> shift;
  RowMatrix<T> rel_shift;
  if (type == CovarianceType::Tied) {
    shift = prep.centre.template cast<double>().transpose().replicate(k, 1);
    rel_shift = RowMatrix<T>::Zero(k, n);
    // The centre was rounded to T; use exactly that point as the shift.
  } else {
    shift = (prep.means.template cast<double>().rowwise() +
             prep.centre.template cast<double>().transpose());
    rel_shift = prep.means;
  }

  const Index B = detail::block_rows_for<T>(prep);
  const auto part = detail::partition_rows(m, B, detail::max_slots_for(type, k, n));
  std::vector<SufficientStats> partial(part.n_slots, SufficientStats::zeros(type, k, n, shift));
  detail::for_each_slot(part, options.n_threads, [&](Index s, Index begin, Index end) {
    auto& ws = detail::thread_workspace<T>(prep, B);
    auto& lse = ws.lse;
    auto& st = partial[s];
    // Quadratic blocks sum their moments in ws.quad_acc, moved into st at the end of the slot.
    if constexpr (detail::kHasQuadraticPath<T>) {
      if (prep.quadratic) detail::begin_quadratic_slot(prep, ws);
    }
    for (Index r0 = begin; r0 < end; r0 += B) {
      detail::poll_stop(options.should_stop);
      const Index rows = std::min(B, end - r0);
      const auto xc = detail::centre_block<T>(prep, X.middleRows(r0, rows), ws);
      auto lp = ws.log_prob.topRows(rows);
      bool quadratic = false;
      if constexpr (detail::kHasQuadraticPath<T>) {
        quadratic = detail::takes_quadratic_path(prep, xc);
        // It leaves the block's features in ws.phi for the moments below.
        if (quadratic) detail::quadratic_log_prob_block(prep, xc, ws, lp);
      }
      if (!quadratic) detail::weighted_log_prob_block<T>(prep, xc, ws, lp);
      auto lse_b = lse.head(rows);
      normalize_log_prob<T>(lp, lse_b, ws.scratch, r0, /*flush=*/true);
      auto rw = ws.row_weight.head(rows);
      load_weights<T>(w, r0, rows, rw);
      lp.array().colwise() *= rw.array();
      st.log_likelihood += static_cast<double>(rw.dot(lse_b));
      st.weight_sum += static_cast<double>(rw.sum());
      st.n_samples += rows;
      if constexpr (detail::kHasQuadraticPath<T>) {
        if (quadratic) detail::quadratic_moments_block(prep, xc, lp, rw, ws);
      }
      // The log-densities above left the diag and spherical powers of xc in ws.
      if (!quadratic) {
        detail::accumulate_moments_block<T>(type, xc, lp, rw, rel_shift, ws, st, /*powers_ready=*/true);
        // A quadratic pass defers its other components' moments in the same sums: flush now.
        if (prep.quadratic) detail::flush_moments<T>(rel_shift, ws, st);
      }
    }
    detail::flush_moments<T>(rel_shift, ws, st);
    if constexpr (detail::kHasQuadraticPath<T>) {
      if (prep.quadratic) detail::flush_quadratic_moments(prep, rel_shift, ws, st);
    }
  }, options.should_stop);
  return merge_in_slot_order(partial, type, k, n, shift);
}

template <typename T>
SufficientStats moments_from_labels(const Eigen::Ref<const RowMatrix<T>>& X, const SampleWeights& w,
                                    const Eigen::Ref<const Vector<std::int64_t>>& labels, Index k,
                                    CovarianceType type, const PassOptions& options) {
  if (labels.size() != X.rows()) throw InvalidArgument("labels must have one entry per sample");
  if (k < 1) throw InvalidArgument("k must be at least 1");
  if (labels.size() > 0 && (labels.minCoeff() < 0 || labels.maxCoeff() >= k))
    throw InvalidArgument("labels must lie in [0, k)");
  const auto one_hot = [&](Index r0, Index rows, Eigen::Ref<RowMatrix<T>> out) {
    out.setZero();
    for (Index i = 0; i < rows; ++i) out(i, labels[r0 + i]) = T(1);
  };
  return moments_about_group_means<T>(X, w, k, type, [&](CovarianceType t, const RowMatrix<double>& shift) {
    if (t == CovarianceType::Full || t == CovarianceType::Spherical)
      return labelled_moments_pass<T>(X, w, labels, t, shift, options);
    return moments_pass<T>(X, w, t, shift, options, one_hot);
  });
}

template <typename T>
SufficientStats moments_from_responsibilities(const Eigen::Ref<const RowMatrix<T>>& X,
                                              const SampleWeights& w,
                                              const Eigen::Ref<const RowMatrix<double>>& resp,
                                              CovarianceType type, const PassOptions& options) {
  if (resp.rows() != X.rows()) throw InvalidArgument("resp must have one row per sample");
  if (resp.cols() < 1) throw InvalidArgument("resp must have at least one column");
  if (!resp.allFinite() || (resp.array() < 0).any())
    throw InvalidArgument("responsibilities must be finite and non-negative");
  const auto fill = [&](Index r0, Index rows, Eigen::Ref<RowMatrix<T>> out) {
    out = resp.middleRows(r0, rows).template cast<T>();
  };
  return moments_about_group_means<T>(X, w, resp.cols(), type,
                                      [&](CovarianceType t, const RowMatrix<double>& shift) {
                                        return moments_pass<T>(X, w, t, shift, options, fill);
                                      });
}

// Refuses a block of query rows holding NaN, infinity, or values so large that squared
// distances overflow T (|x| above sqrt(max / 4n)), naming the first such sample. Checked block by
// block inside the pass, while the rows are in cache, instead of by a separate pass over X.
template <typename T>
void check_block_values(const Eigen::Ref<const RowMatrix<T>>& xb, Index first_row) {
  const T n = static_cast<T>(std::max<Index>(xb.cols(), 1));
  const T limit = std::sqrt(std::numeric_limits<T>::max() / (T(4) * n));
  // One vectorised pass: the largest magnitude, with NaN propagated so that it fails the test too.
  if (xb.cwiseAbs().template maxCoeff<Eigen::PropagateNaN>() <= limit) return;
  const char* dtype = std::is_same<T, float>::value ? "float32" : "float64";
  for (Index i = 0; i < xb.rows(); ++i) {
    const auto row = xb.row(i);
    const std::string where = " (sample " + std::to_string(first_row + i) + ")";
    if (row.hasNaN()) throw InvalidArgument("Input X contains NaN" + where + ".");
    if (!row.allFinite())
      throw InvalidArgument("Input X contains infinity or a value too large for dtype('" +
                            std::string(dtype) + "')" + where + ".");
    const T top = row.cwiseAbs().maxCoeff();
    if (top > limit) {
      char text[256];
      std::snprintf(text, sizeof text,
                    "Input X has values up to %.3g in magnitude%s: their squared distances overflow "
                    "%s (the limit for %ld feature(s) is about %.3g). Rescale the data (e.g. divide "
                    "by its standard deviation)%s.",
                    static_cast<double>(top), where.c_str(), dtype, static_cast<long>(xb.cols()),
                    static_cast<double>(limit),
                    std::is_same<T, float>::value ? " or pass float64 data" : "");
      throw InvalidArgument(text);
    }
  }
}

template <typename T>
RowMatrix<double> log_prob_pass(const Eigen::Ref<const RowMatrix<T>>& X, const Mixture& mixture,
                                LogProbOutput output, const PassOptions& options) {
  const Index m = X.rows(), n = mixture.n_features(), k = mixture.n_components();
  check_inputs<T>(X, Vector<double>(), n);
  const detail::Prepared<T> prep = detail::prepare<T>(mixture);
  const bool per_component =
      output == LogProbOutput::WeightedLogProb || output == LogProbOutput::Responsibilities;
  RowMatrix<double> out(m, per_component ? k : 1);
  const Index B = detail::block_rows_for<T>(prep);
  // Diag and spherical queries with few components skip the products (see diag_log_prob_rows).
  const RowMatrix<double> fused_diag = detail::fused_diag_coefficients(prep);
  // Labels and scores of full mixtures compute only the log-densities that can matter (see
  // pruned_log_prob_block), in wider blocks of their own; score_samples keeps every term that
  // log_sum_exp_rows would.
  Index pruned_h = per_component ? 0 : detail::pruning_features(prep, output == LogProbOutput::ScoreSamples);
  const T pruned_cut = pruning_cut<T>(output);
  if (pruned_h > 0 && !detail::pruning_pays<T>(prep, pruned_h, pruned_cut, X,
                                               detail::pruned_workspace(prep, pruned_h)))
    pruned_h = 0;
  const Index block = pruned_h > 0 ? detail::kPrunedBlockRows : B;
  // No reduction here, so any split works; reuse the accumulate partition for load balance.
  const auto part = detail::partition_rows(m, block, 64);
  detail::for_each_slot(part, options.n_threads, [&](Index, Index begin, Index end) {
    auto& ws = detail::thread_workspace<T>(prep, B);
    detail::PrunedWorkspace<T>* pws =
        pruned_h > 0 ? &detail::pruned_workspace(prep, pruned_h) : nullptr;
    // Rows r0.. of X, log-densities in lp, reduced to the output.
    const auto reduce = [&](Index r0, Eigen::Ref<RowMatrix<T>> lp) {
      const Index rows = lp.rows();
      switch (output) {
        case LogProbOutput::WeightedLogProb:
          out.middleRows(r0, rows) = lp.template cast<double>();
          break;
        case LogProbOutput::Labels:
          for (Index i = 0; i < rows; ++i) {
            const Index best = detail::first_max_index<T>(lp.data() + i * lp.outerStride(), lp.cols());
            // Without this, argmax would silently answer 0 for such a row.
            if (best < 0) throw zero_density_error(r0 + i);
            out(r0 + i, 0) = static_cast<double>(best);
          }
          break;
        case LogProbOutput::Responsibilities: {
          auto lse_b = ws.lse.head(rows);
          normalize_log_prob<T>(lp, lse_b, ws.scratch, r0, /*flush=*/false);
          out.middleRows(r0, rows) = lp.template cast<double>();
          break;
        }
        case LogProbOutput::ScoreSamples: {
          auto lse_b = ws.lse.head(rows);
          log_sum_exp_rows<T>(lp, lse_b, ws.kept, ws.scratch, ws.resp.data(), r0);
          out.middleRows(r0, rows) = lse_b.template cast<double>();
          break;
        }
      }
    };
    for (Index r0 = begin; r0 < end; r0 += block) {
      detail::poll_stop(options.should_stop);
      const Index rows = std::min(block, end - r0);
      check_block_values<T>(X.middleRows(r0, rows), r0);
      auto lp = (pws ? pws->log_prob : ws.log_prob).topRows(rows);
      const bool pruned = pws && detail::pruned_log_prob_block<T>(prep, pruned_h, pruned_cut,
                                                                   X.middleRows(r0, rows), *pws, lp);
      // In ordinary blocks (one, unless pruning), whose size the workspace's scratch is for. A
      // pruned pass's block where too many components survive the bound gets every log-density.
      for (Index s = 0; s < rows; s += B) {
        const Index sub = std::min(B, rows - s);
        auto lp_sub = lp.middleRows(s, sub);
        if (!pruned) {
          if (fused_diag.size() > 0) {
            // Labels straight from the sums in registers: no log-densities stored and read back.
            double* labels = output == LogProbOutput::Labels ? &out(r0 + s, 0) : nullptr;
            const Index bad =
                detail::diag_log_prob_rows<T>(prep, fused_diag, X.middleRows(r0 + s, sub), lp_sub, labels);
            if (bad >= 0) throw zero_density_error(r0 + s + bad);
            if (labels != nullptr) continue;
          } else {
            const auto xc = detail::centre_block<T>(prep, X.middleRows(r0 + s, sub), ws);
            detail::weighted_log_prob_block<T>(prep, xc, ws, lp_sub);
          }
        }
        reduce(r0 + s, lp_sub);
      }
    }
  }, options.should_stop);
  return out;
}

std::vector<Index> quadratic_path_components(const Mixture& mixture) {
  return detail::prepare<double>(mixture).quad_components;
}

template <typename T>
PrunedQueryBlock pruned_query_block(const Eigen::Ref<const RowMatrix<T>>& X, const Mixture& mixture,
                                    LogProbOutput output) {
  if (output != LogProbOutput::Labels && output != LogProbOutput::ScoreSamples)
    throw InvalidArgument("only label and score queries are pruned");
  check_inputs<T>(X, Vector<double>(), mixture.n_features());
  const detail::Prepared<T> prep = detail::prepare<T>(mixture);
  PrunedQueryBlock result;
  result.bound_features = detail::pruning_features(prep, output == LogProbOutput::ScoreSamples);
  if (result.bound_features == 0) return result;
  const Index rows = std::min(X.rows(), detail::kPrunedBlockRows);
  check_block_values<T>(X.topRows(rows), 0);
  auto& ws = detail::pruned_workspace(prep, result.bound_features);
  const T cut = pruning_cut<T>(output);
  result.pass_prunes = detail::pruning_pays<T>(prep, result.bound_features, cut, X, ws);
  auto lp = ws.log_prob.topRows(rows);
  result.pruned = detail::pruned_log_prob_block<T>(prep, result.bound_features, cut, X.topRows(rows), ws, lp);
  if (result.pruned) result.log_prob = lp.template cast<double>();
  return result;
}

#define GAUSSMIX_INSTANTIATE(T)                                                                     \
  template SufficientStats accumulate<T>(const Eigen::Ref<const RowMatrix<T>>&, const SampleWeights&, \
                                         const Mixture&, const PassOptions&);                        \
  template SufficientStats moments_from_labels<T>(const Eigen::Ref<const RowMatrix<T>>&,             \
                                                  const SampleWeights&,                              \
                                                  const Eigen::Ref<const Vector<std::int64_t>>&,     \
                                                  Index, CovarianceType, const PassOptions&);        \
  template SufficientStats moments_from_responsibilities<T>(                                         \
      const Eigen::Ref<const RowMatrix<T>>&, const SampleWeights&,                                   \
      const Eigen::Ref<const RowMatrix<double>>&, CovarianceType, const PassOptions&);               \
  template RowMatrix<double> log_prob_pass<T>(const Eigen::Ref<const RowMatrix<T>>&, const Mixture&, \
                                              LogProbOutput, const PassOptions&);
GAUSSMIX_INSTANTIATE(float)
GAUSSMIX_INSTANTIATE(double)
template PrunedQueryBlock pruned_query_block<float>(const Eigen::Ref<const RowMatrix<float>>&, const Mixture&,
                                                    LogProbOutput);
template PrunedQueryBlock pruned_query_block<double>(const Eigen::Ref<const RowMatrix<double>>&,
                                                     const Mixture&, LogProbOutput);
#undef GAUSSMIX_INSTANTIATE

}  // namespace gaussmix
