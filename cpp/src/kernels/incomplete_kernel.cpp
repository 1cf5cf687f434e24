// The incomplete-rows kernel family (see incomplete_kernel.hpp for the algebra).
#include "kernels/incomplete_kernel.hpp"

#include "gaussmix/errors.hpp"
#include "structures/structure.hpp"

#include <Eigen/Cholesky>

#include <cmath>
#include <limits>

namespace gaussmix::detail {

namespace {

// Patterns cached per thread and pass at most; past this the cache starts again (rows with
// nearly every pattern their own gain little from it, and memory stays bounded).
constexpr std::size_t kMaxCachedPatterns = 4096;

}  // namespace

template <typename T>
IncompleteKernel<T>::IncompleteKernel(const Mixture& mixture, std::unique_ptr<Kernel<T>> inner,
                                      std::shared_ptr<const KernelFrame<T>> frame)
    : Base(mixture.n_components(), mixture.n_features(), inner->block_rows(), std::move(frame)),
      inner_(std::move(inner)) {
  const Index k = this->k_, n = this->n_;
  auto shared = std::make_shared<Shared>();
  const MomentsLayout layout = structure(mixture.covariance_type).moments();
  shared->diagonal = layout == MomentsLayout::PerComponentDiagonal || layout == MomentsLayout::PerComponentTrace;
  shared->per_component_matrix = layout != MomentsLayout::PooledMatrix;
  shared->trace = layout == MomentsLayout::PerComponentTrace;
  const RowMatrix<double> precisions = mixture.precisions();
  if (shared->diagonal) {
    shared->diag_precision = shared->trace ? RowMatrix<double>(precisions.col(0).replicate(1, n)) : precisions;
  } else if (layout == MomentsLayout::PooledMatrix) {
    shared->precision.emplace_back(precisions);
  } else {
    for (Index c = 0; c < k; ++c) shared->precision.emplace_back(precisions.middleRows(c * n, n));
  }
  shared->means = mixture.means;
  shared->log_weights = mixture.weights.array().log();
  shared_ = std::move(shared);
}

template <typename T>
std::unique_ptr<Kernel<T>> IncompleteKernel<T>::clone() const {
  return std::unique_ptr<Kernel<T>>(new IncompleteKernel(*this, inner_->clone()));
}

template <typename T>
const typename IncompleteKernel<T>::Pattern& IncompleteKernel<T>::pattern_of(const std::vector<Index>& missing) {
  std::string key(reinterpret_cast<const char*>(missing.data()), missing.size() * sizeof(Index));
  auto found = patterns_.find(key);
  if (found != patterns_.end()) return found->second;
  Pattern p;
  p.missing = missing;
  p.is_missing.assign(this->n_, 0);
  for (Index j : missing) p.is_missing[j] = 1;
  const Index h = static_cast<Index>(missing.size());
  for (const Eigen::MatrixXd& P : shared_->precision) {
    Eigen::MatrixXd block(h, h);
    for (Index a = 0; a < h; ++a)
      for (Index b = 0; b < h; ++b) block(a, b) = P(missing[a], missing[b]);
    Eigen::LLT<Eigen::MatrixXd> llt(block);
    // A principal block of a positive definite precision is positive definite; only a precision
    // broken by rounding fails here.
    if (llt.info() != Eigen::Success)
      throw NotPositiveDefinite(0,
                                "a precision matrix restricted to a row's missing features is not positive "
                                "definite; increase reg_covar");
    Eigen::MatrixXd L = llt.matrixL();
    const Eigen::MatrixXd inv_l = L.triangularView<Eigen::Lower>().solve(Eigen::MatrixXd::Identity(h, h));
    p.cond_cov.push_back(inv_l.transpose() * inv_l);
    p.half_log_det.push_back(L.diagonal().array().log().sum());
    p.chol.push_back(std::move(L));
  }
  return patterns_.emplace(std::move(key), std::move(p)).first->second;
}

template <typename T>
void IncompleteKernel<T>::load(const Eigen::Ref<const RowMatrix<T>>& rows) {
  rows_ = rows.rows();
  holed_.clear();
  if (!rows.hasNaN()) {
    inner_->load(rows);
    return;
  }
  // Pointers into the cache live until the end of this block, so the cache is trimmed here.
  if (patterns_.size() > kMaxCachedPatterns) patterns_.clear();
  const Index n = this->n_, k = this->k_;
  grow(filled_, this->block_rows_, n);
  holed_pattern_.clear();
  delta_at_.clear();
  Index delta_size = 0;
  for (Index i = 0; i < rows_; ++i) {
    scratch_missing_.clear();
    for (Index j = 0; j < n; ++j) {
      const T value = rows(i, j);
      if (std::isnan(value)) {
        scratch_missing_.push_back(j);
        filled_(i, j) = this->frame_->centre[j];
      } else {
        filled_(i, j) = value;
      }
    }
    if (scratch_missing_.empty()) continue;
    holed_.push_back(i);
    holed_pattern_.push_back(&pattern_of(scratch_missing_));
    delta_at_.push_back(delta_size);
    delta_size += k * static_cast<Index>(scratch_missing_.size());
  }
  delta_.resize(static_cast<std::size_t>(delta_size));
  inner_->load(filled_.topRows(rows_));
}

template <typename T>
void IncompleteKernel<T>::log_prob(Eigen::Ref<RowMatrix<T>> out) {
  inner_->log_prob(out);
  const Shared& s = *shared_;
  const Index n = this->n_, k = this->k_;
  constexpr double kHalfLog2Pi = 0.5 * kLog2Pi;
  Eigen::VectorXd y(n), g, v;
  for (std::size_t t = 0; t < holed_.size(); ++t) {
    const Index i = holed_[t];
    const Pattern& p = *holed_pattern_[t];
    const Index h = static_cast<Index>(p.missing.size());
    double* delta = delta_.data() + delta_at_[t];
    for (Index c = 0; c < k; ++c, delta += h) {
      for (Index j = 0; j < n; ++j) y[j] = static_cast<double>(filled_(i, j)) - s.means(c, j);
      if (h == n) {
        // Nothing observed: the marginal density of no coordinates is 1, the posterior the
        // weights, and the conditional mean the component's mean.
        out(i, c) = static_cast<T>(s.log_weights[c]);
        for (Index a = 0; a < h; ++a) delta[a] = -y[a];
        continue;
      }
      double correction = 0.0;
      if (s.diagonal) {
        for (Index a = 0; a < h; ++a) {
          const Index j = p.missing[a];
          const double precision = s.diag_precision(c, j);
          correction += kHalfLog2Pi - 0.5 * std::log(precision) + 0.5 * precision * y[j] * y[j];
          delta[a] = -y[j];
        }
      } else {
        const Index q = precision_of(c);
        const Eigen::MatrixXd& P = s.precision[static_cast<std::size_t>(q)];
        g.resize(h);
        // P is symmetric and column-major: its columns are the contiguous rows.
        for (Index a = 0; a < h; ++a) g[a] = P.col(p.missing[a]).dot(y);
        const Eigen::MatrixXd& L = p.chol[static_cast<std::size_t>(q)];
        v = L.triangularView<Eigen::Lower>().solve(g);
        correction =
            static_cast<double>(h) * kHalfLog2Pi - p.half_log_det[static_cast<std::size_t>(q)] + 0.5 * v.squaredNorm();
        Eigen::Map<Eigen::VectorXd>(delta, h) = -(L.transpose().triangularView<Eigen::Upper>().solve(v));
      }
      out(i, c) = static_cast<T>(static_cast<double>(out(i, c)) + correction);
    }
  }
}

template <typename T>
void IncompleteKernel<T>::moments(const Eigen::Ref<const RowMatrix<T>>& resp,
                                  const Eigen::Ref<const Vector<T>>& row_weight, SufficientStats& stats) {
  inner_->moments(resp, row_weight, stats);
  const Shared& s = *shared_;
  const Index n = this->n_, k = this->k_;
  const RowMatrix<double>& shift = this->frame_->shift;
  Eigen::VectorXd y(n), full_delta = Eigen::VectorXd::Zero(n);
  for (std::size_t t = 0; t < holed_.size(); ++t) {
    const Index i = holed_[t];
    const Pattern& p = *holed_pattern_[t];
    const Index h = static_cast<Index>(p.missing.size());
    const double* delta = delta_.data() + delta_at_[t];
    for (Index c = 0; c < k; ++c, delta += h) {
      const double r = static_cast<double>(resp(i, c));
      if (r == 0.0) continue;
      for (Index j = 0; j < n; ++j) y[j] = static_cast<double>(filled_(i, j)) - shift(c, j);
      for (Index a = 0; a < h; ++a) stats.s1(c, p.missing[a]) += r * delta[a];
      if (s.diagonal) {
        // (y + delta)^2 - y^2 = delta (2 y + delta), plus the conditional variance.
        double trace = 0.0;
        for (Index a = 0; a < h; ++a) {
          const Index j = p.missing[a];
          const double term = delta[a] * (2.0 * y[j] + delta[a]) + 1.0 / s.diag_precision(c, j);
          if (s.trace)
            trace += term;
          else
            stats.s2(c, j) += r * term;
        }
        if (s.trace) stats.s2(c, 0) += r * trace;
        continue;
      }
      // Lower triangle of x^ x^T - y y^T + P_mm^-1, where x^ = y + delta on the holes: entries
      // in a hole's row or column only. Row `a` of a hole takes columns up to it; a hole's
      // column takes the observed rows below it (hole rows there are their own row's share).
      const Eigen::MatrixXd& cov = p.cond_cov[static_cast<std::size_t>(precision_of(c))];
      auto s2 = stats.s2.middleRows(s.per_component_matrix ? c * n : 0, n);
      for (Index a = 0; a < h; ++a) full_delta[p.missing[a]] = delta[a];
      for (Index a = 0; a < h; ++a) {
        const Index j = p.missing[a];
        const double dj = delta[a], yj = y[j];
        for (Index b = 0; b <= j; ++b) s2(j, b) += r * (dj * y[b] + yj * full_delta[b] + dj * full_delta[b]);
        for (Index b = j + 1; b < n; ++b)
          if (!p.is_missing[b]) s2(b, j) += r * (dj * y[b]);
        for (Index b = 0; b <= a; ++b) s2(j, p.missing[b]) += r * cov(a, b);
      }
      for (Index a = 0; a < h; ++a) full_delta[p.missing[a]] = 0.0;
    }
  }
}

template <typename T>
typename Kernel<T>::QueryBlock IncompleteKernel<T>::query(const Eigen::Ref<const RowMatrix<T>>& rows,
                                                          Eigen::Ref<RowMatrix<T>> out, double* labels) {
  if (!rows.hasNaN()) return inner_->query(rows, out, labels);
  // The wrapped kernel may have planned query blocks wider than its load() takes.
  const Index B = this->block_rows_;
  for (Index r0 = 0; r0 < rows.rows(); r0 += B) {
    const Index h = std::min(B, rows.rows() - r0);
    load(rows.middleRows(r0, h));
    log_prob(out.middleRows(r0, h));
  }
  return {};
}

template <typename T>
void IncompleteKernel<T>::complete_rows(const Eigen::Ref<const RowMatrix<T>>& resp, const double* uniforms,
                                        const Eigen::Ref<const RowMatrix<double>>* normals,
                                        Eigen::Ref<RowMatrix<T>> out) const {
  const Shared& s = *shared_;
  const Index k = this->k_;
  for (std::size_t t = 0; t < holed_.size(); ++t) {
    const Index i = holed_[t];
    const Pattern& p = *holed_pattern_[t];
    const Index h = static_cast<Index>(p.missing.size());
    const double* delta = delta_.data() + delta_at_[t];
    if (uniforms == nullptr) {
      for (Index a = 0; a < h; ++a) {
        double value = 0.0;
        for (Index c = 0; c < k; ++c) value += static_cast<double>(resp(i, c)) * delta[c * h + a];
        const Index j = p.missing[a];
        out(i, j) = static_cast<T>(static_cast<double>(filled_(i, j)) + value);
      }
      continue;
    }
    // The component: the first whose cumulative responsibility exceeds the uniform (the last
    // with positive responsibility when rounding leaves the total just below it).
    Index chosen = -1;
    double cumulative = 0.0;
    for (Index c = 0; c < k; ++c) {
      const double r = static_cast<double>(resp(i, c));
      if (r <= 0.0) continue;
      chosen = c;
      cumulative += r;
      if (uniforms[i] < cumulative) break;
    }
    const double* d = delta + chosen * h;
    Eigen::VectorXd z(h);
    for (Index a = 0; a < h; ++a) z[a] = (*normals)(i, p.missing[a]);
    Eigen::VectorXd noise(h);
    if (s.diagonal) {
      for (Index a = 0; a < h; ++a) noise[a] = z[a] / std::sqrt(s.diag_precision(chosen, p.missing[a]));
    } else {
      // Covariance P_mm^-1 = L^-T L^-1, so L^-T z has it.
      noise = p.chol[static_cast<std::size_t>(precision_of(chosen))]
                  .transpose()
                  .template triangularView<Eigen::Upper>()
                  .solve(z);
    }
    for (Index a = 0; a < h; ++a) {
      const Index j = p.missing[a];
      out(i, j) = static_cast<T>(static_cast<double>(filled_(i, j)) + d[a] + noise[a]);
    }
  }
}

template <typename T>
std::unique_ptr<Kernel<T>> make_incomplete_kernel(const Mixture& mixture, std::unique_ptr<Kernel<T>> inner,
                                                  std::shared_ptr<const KernelFrame<T>> frame) {
  return std::make_unique<IncompleteKernel<T>>(mixture, std::move(inner), std::move(frame));
}

template class IncompleteKernel<float>;
template class IncompleteKernel<double>;
template std::unique_ptr<Kernel<float>> make_incomplete_kernel<float>(const Mixture&, std::unique_ptr<Kernel<float>>,
                                                                      std::shared_ptr<const KernelFrame<float>>);
template std::unique_ptr<Kernel<double>> make_incomplete_kernel<double>(const Mixture&, std::unique_ptr<Kernel<double>>,
                                                                        std::shared_ptr<const KernelFrame<double>>);

}  // namespace gaussmix::detail
