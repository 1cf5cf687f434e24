// The incomplete-rows kernel family (see incomplete_kernel.hpp for the algebra).
#include "kernels/incomplete_kernel.hpp"

#include "gaussmix/errors.hpp"
#include "structures/structure.hpp"

#include <Eigen/Cholesky>

#include <cmath>
#include <limits>

namespace gaussmix::detail {

namespace {

// Lanes of the per-component loops: a multiple of them is what every such loop runs over, in
// fixed-width steps the compiler turns into whole vector operations without loop tails.
constexpr Index kLanes = 8;
#define GAUSSMIX_EACH_LANE(c)                                   \
  for (Index c##_block = 0; c##_block < k; c##_block += kLanes) \
    for (Index c = c##_block; c < c##_block + kLanes; ++c)

// Patterns cached per thread and pass at most; past this the cache starts again (rows with
// nearly every pattern their own gain little from it, and memory stays bounded).
constexpr std::size_t kMaxCachedPatterns = 4096;

}  // namespace

template <typename T>
IncompleteKernel<T>::IncompleteKernel(const Mixture& mixture, std::unique_ptr<Kernel<T>> inner,
                                      std::shared_ptr<const KernelFrame<T>> frame)
    : Base(mixture.n_components(), mixture.n_features(), inner->block_rows(), std::move(frame)),
      inner_(std::move(inner)),
      kp_((mixture.n_components() + kLanes - 1) / kLanes * kLanes) {
  // Per-component arrays have kp_ lanes; the padding lanes hold harmless values (mean 0,
  // precision 0, or 1 on a diagonal) and zero responsibility, and are never read back.
  const Index k = kp_, k_real = this->k_, n = this->n_;
  auto sh = std::make_shared<Shared>();
  const MomentsLayout layout = structure(mixture.covariance_type).moments();
  sh->diagonal = layout == MomentsLayout::PerComponentDiagonal || layout == MomentsLayout::PerComponentTrace;
  sh->per_component_matrix = layout != MomentsLayout::PooledMatrix;
  sh->trace = layout == MomentsLayout::PerComponentTrace;
  const RowMatrix<double> precisions = mixture.precisions();
  if (sh->diagonal) {
    sh->diag_precision.assign(static_cast<std::size_t>(n * k), 1.0);
    sh->log_precision.assign(sh->diag_precision.size(), 0.0);
    for (Index j = 0; j < n; ++j)
      for (Index c = 0; c < k_real; ++c) {
        const double value = precisions(c, sh->trace ? 0 : j);
        sh->diag_precision[j * k + c] = value;
        sh->log_precision[j * k + c] = std::log(value);
      }
  } else {
    const bool pooled = layout == MomentsLayout::PooledMatrix;
    sh->precision.assign(static_cast<std::size_t>(n * n * k), 0.0);
    for (Index r = 0; r < n; ++r)
      for (Index j = 0; j < n; ++j)
        for (Index c = 0; c < k_real; ++c) sh->precision[(r * n + j) * k + c] = precisions((pooled ? 0 : c * n) + r, j);
  }
  sh->means.assign(static_cast<std::size_t>(n * k), 0.0);
  sh->shift.assign(sh->means.size(), 0.0);
  for (Index j = 0; j < n; ++j)
    for (Index c = 0; c < k_real; ++c) {
      sh->means[j * k + c] = mixture.means(c, j);
      sh->shift[j * k + c] = this->frame_->shift(c, j);
    }
  sh->log_weights.assign(static_cast<std::size_t>(k), 0.0);
  for (Index c = 0; c < k_real; ++c) sh->log_weights[c] = std::log(mixture.weights[c]);
  shared_ = std::move(sh);
}

template <typename T>
std::unique_ptr<Kernel<T>> IncompleteKernel<T>::clone() const {
  return std::unique_ptr<Kernel<T>>(new IncompleteKernel(*this, inner_->clone()));
}

template <typename T>
const typename IncompleteKernel<T>::Pattern& IncompleteKernel<T>::pattern_of(const std::vector<Index>& missing) {
  // The key buffer is reused, so a pattern already cached costs a hash and no allocation.
  scratch_key_.assign(reinterpret_cast<const char*>(missing.data()), missing.size() * sizeof(Index));
  auto found = patterns_.find(scratch_key_);
  if (found != patterns_.end()) return found->second;
  const Index n = this->n_, k = kp_, k_real = this->k_;
  Pattern p;
  p.missing = missing;
  p.is_missing.assign(static_cast<std::size_t>(n), 0);
  for (Index j : missing) p.is_missing[static_cast<std::size_t>(j)] = 1;
  if (!shared_->diagonal) {
    const Index h = static_cast<Index>(missing.size());
    p.chol.assign(static_cast<std::size_t>(h * h * k), 0.0);
    p.cond_cov.assign(p.chol.size(), 0.0);
    p.inv_diag.assign(static_cast<std::size_t>(h * k), 0.0);
    p.half_log_det.assign(static_cast<std::size_t>(k), 0.0);
    const std::vector<double>& P = shared_->precision;
    Eigen::MatrixXd block(h, h);
    for (Index c = 0; c < k_real; ++c) {
      for (Index a = 0; a < h; ++a)
        for (Index b = 0; b < h; ++b) block(a, b) = P[(missing[a] * n + missing[b]) * k + c];
      Eigen::LLT<Eigen::MatrixXd> llt(block);
      // A principal block of a positive definite precision is positive definite; only a
      // precision broken by rounding fails here.
      if (llt.info() != Eigen::Success)
        throw NotPositiveDefinite(c,
                                  "a precision matrix restricted to a row's missing features is not positive "
                                  "definite; increase reg_covar");
      const Eigen::MatrixXd L = llt.matrixL();
      const Eigen::MatrixXd inv_l = L.triangularView<Eigen::Lower>().solve(Eigen::MatrixXd::Identity(h, h));
      const Eigen::MatrixXd cov = inv_l.transpose() * inv_l;
      for (Index a = 0; a < h; ++a) {
        p.inv_diag[a * k + c] = 1.0 / L(a, a);
        for (Index b = 0; b < h; ++b) {
          p.chol[(a * h + b) * k + c] = L(a, b);
          p.cond_cov[(a * h + b) * k + c] = cov(a, b);
        }
      }
      p.half_log_det[c] = L.diagonal().array().log().sum();
    }
  }
  return patterns_.emplace(scratch_key_, std::move(p)).first->second;
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
  const Index n = this->n_, k = kp_;
  grow(filled_, this->block_rows_, n);
  const std::size_t nk = static_cast<std::size_t>(n * k);
  y_.resize(nk);
  g_.resize(nk);
  v_.resize(nk);
  sum_.resize(static_cast<std::size_t>(k));
  full_delta_.assign(nk, 0.0);
  holed_pattern_.clear();
  delta_at_.clear();
  Index delta_size = 0;
  const T* centre = this->frame_->centre.data();
  for (Index i = 0; i < rows_; ++i) {
    const T* in = rows.data() + i * rows.outerStride();
    T* out = filled_.data() + i * n;
    scratch_missing_.clear();
    for (Index j = 0; j < n; ++j) {
      const T value = in[j];
      if (std::isnan(value)) {
        scratch_missing_.push_back(j);
        out[j] = centre[j];
      } else {
        out[j] = value;
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
  const Index n = this->n_, k = kp_, k_real = this->k_;
  constexpr double kHalfLog2Pi = 0.5 * kLog2Pi;
  double* __restrict y = y_.data();
  double* __restrict g = g_.data();
  double* __restrict v = v_.data();
  double* __restrict corr = sum_.data();
  for (std::size_t t = 0; t < holed_.size(); ++t) {
    const Index i = holed_[t];
    const Pattern& p = *holed_pattern_[t];
    const Index h = static_cast<Index>(p.missing.size());
    const Index* missing = p.missing.data();
    const T* x = filled_.data() + i * n;
    double* __restrict delta = delta_.data() + delta_at_[t];
    // y[j][c] = x_j - mu_cj
    for (Index j = 0; j < n; ++j) {
      const double xj = static_cast<double>(x[j]);
      const double* mu = s.means.data() + j * k;
      GAUSSMIX_EACH_LANE(c) y[j * k + c] = xj - mu[c];
    }
    if (h == n) {
      // Nothing observed: the marginal density of no coordinates is 1, the posterior the
      // weights, and the conditional mean the component's mean.
      for (Index c = 0; c < k_real; ++c) out(i, c) = static_cast<T>(s.log_weights[c]);
      for (Index a = 0; a < h * k; ++a) delta[a] = -y[a];
      continue;
    }
    if (s.diagonal) {
      GAUSSMIX_EACH_LANE(c) corr[c] = static_cast<double>(h) * kHalfLog2Pi;
      for (Index a = 0; a < h; ++a) {
        const Index j = missing[a];
        const double* prec = s.diag_precision.data() + j * k;
        const double* logp = s.log_precision.data() + j * k;
        const double* yj = y + j * k;
        GAUSSMIX_EACH_LANE(c) {
          corr[c] += 0.5 * (prec[c] * yj[c] * yj[c] - logp[c]);
          delta[a * k + c] = -yj[c];
        }
      }
    } else {
      // g[a][c] = (P_c y_c)_m(a): the rows of the symmetric P at the holes.
      // The sums run in registers, one vector of lanes at a time.
      for (Index a = 0; a < h; ++a) {
        const double* row = s.precision.data() + missing[a] * n * k;
        for (Index block = 0; block < k; block += kLanes) {
          double acc[kLanes] = {};
          for (Index j = 0; j < n; ++j) {
            const double* pj = row + j * k + block;
            const double* yj = y + j * k + block;
            for (Index l = 0; l < kLanes; ++l) acc[l] += pj[l] * yj[l];
          }
          for (Index l = 0; l < kLanes; ++l) g[a * k + block + l] = acc[l];
        }
      }
      // v = L^-1 g (forward), delta = -L^-T v (backward), every component at once.
      GAUSSMIX_EACH_LANE(c) corr[c] = static_cast<double>(h) * kHalfLog2Pi - p.half_log_det[c];
      for (Index a = 0; a < h; ++a) {
        double* va = v + a * k;
        GAUSSMIX_EACH_LANE(c) va[c] = g[a * k + c];
        for (Index b = 0; b < a; ++b) {
          const double* L = p.chol.data() + (a * h + b) * k;
          const double* vb = v + b * k;
          GAUSSMIX_EACH_LANE(c) va[c] -= L[c] * vb[c];
        }
        const double* inv = p.inv_diag.data() + a * k;
        GAUSSMIX_EACH_LANE(c) {
          va[c] *= inv[c];
          corr[c] += 0.5 * va[c] * va[c];
        }
      }
      for (Index a = h - 1; a >= 0; --a) {
        double* da = delta + a * k;
        GAUSSMIX_EACH_LANE(c) da[c] = v[a * k + c];
        for (Index b = a + 1; b < h; ++b) {
          const double* L = p.chol.data() + (b * h + a) * k;
          const double* db = delta + b * k;
          GAUSSMIX_EACH_LANE(c) da[c] += L[c] * db[c];  // db holds -d_b
        }
        const double* inv = p.inv_diag.data() + a * k;
        GAUSSMIX_EACH_LANE(c) da[c] *= -inv[c];
      }
    }
    for (Index c = 0; c < k_real; ++c) out(i, c) = static_cast<T>(static_cast<double>(out(i, c)) + corr[c]);
  }
}

template <typename T>
void IncompleteKernel<T>::moments(const Eigen::Ref<const RowMatrix<T>>& resp,
                                  const Eigen::Ref<const Vector<T>>& row_weight, SufficientStats& stats) {
  inner_->moments(resp, row_weight, stats);
  if (holed_.empty()) return;
  const Shared& s = *shared_;
  const Index n = this->n_, k = kp_, k_real = this->k_;
  if (!pending_) {
    s1_.assign(static_cast<std::size_t>(n * k), 0.0);
    s2_.assign(static_cast<std::size_t>(s.diagonal ? (s.trace ? k : n * k) : n * n * k), 0.0);
    pending_ = true;
  }
  double* __restrict y = y_.data();
  double* __restrict fd = full_delta_.data();
  double* __restrict r = sum_.data();
  double* __restrict s1 = s1_.data();
  double* __restrict s2 = s2_.data();
  for (std::size_t t = 0; t < holed_.size(); ++t) {
    const Index i = holed_[t];
    const Pattern& p = *holed_pattern_[t];
    const Index h = static_cast<Index>(p.missing.size());
    const Index* missing = p.missing.data();
    const char* is_missing = p.is_missing.data();
    const T* x = filled_.data() + i * n;
    const double* delta = delta_.data() + delta_at_[t];
    for (Index c = 0; c < k; ++c) r[c] = c < k_real ? static_cast<double>(resp(i, c)) : 0.0;
    // y[j][c] = x_j - shift_cj, the moments' frame.
    for (Index j = 0; j < n; ++j) {
      const double xj = static_cast<double>(x[j]);
      const double* sh = s.shift.data() + j * k;
      GAUSSMIX_EACH_LANE(c) y[j * k + c] = xj - sh[c];
    }
    for (Index a = 0; a < h; ++a) {
      double* s1j = s1 + missing[a] * k;
      GAUSSMIX_EACH_LANE(c) s1j[c] += r[c] * delta[a * k + c];
    }
    if (s.diagonal) {
      // (y + delta)^2 - y^2 = delta (2 y + delta), plus the conditional variance 1 / precision.
      for (Index a = 0; a < h; ++a) {
        const Index j = missing[a];
        const double* yj = y + j * k;
        const double* da = delta + a * k;
        const double* prec = s.diag_precision.data() + j * k;
        double* target = s.trace ? s2 : s2 + j * k;
        GAUSSMIX_EACH_LANE(c) target[c] += r[c] * (da[c] * (2.0 * yj[c] + da[c]) + 1.0 / prec[c]);
      }
      continue;
    }
    // Lower triangle of x^ x^T - y y^T + P_mm^-1, where x^ = y + delta on the holes: entries
    // in a hole's row or column only. Row j of a hole takes the columns up to it; a hole's
    // column takes the observed rows below it (hole rows there are their own row's share).
    for (Index a = 0; a < h; ++a) {
      const double* da = delta + a * k;
      double* f = fd + missing[a] * k;
      GAUSSMIX_EACH_LANE(c) f[c] = da[c];
    }
    for (Index a = 0; a < h; ++a) {
      const Index j = missing[a];
      const double* da = delta + a * k;
      const double* yj = y + j * k;
      for (Index b = 0; b <= j; ++b) {
        double* cell = s2 + (j * n + b) * k;
        const double* yb = y + b * k;
        const double* fb = fd + b * k;
        GAUSSMIX_EACH_LANE(c) cell[c] += r[c] * (da[c] * (yb[c] + fb[c]) + yj[c] * fb[c]);
      }
      for (Index b = j + 1; b < n; ++b) {
        if (is_missing[b]) continue;
        double* cell = s2 + (b * n + j) * k;
        const double* yb = y + b * k;
        GAUSSMIX_EACH_LANE(c) cell[c] += r[c] * da[c] * yb[c];
      }
      for (Index b = 0; b <= a; ++b) {
        double* cell = s2 + (j * n + missing[b]) * k;
        const double* cov = p.cond_cov.data() + (a * h + b) * k;
        GAUSSMIX_EACH_LANE(c) cell[c] += r[c] * cov[c];
      }
    }
    for (Index a = 0; a < h; ++a) {
      double* f = fd + missing[a] * k;
      GAUSSMIX_EACH_LANE(c) f[c] = 0.0;
    }
  }
}

template <typename T>
void IncompleteKernel<T>::end_slot(SufficientStats& stats) {
  inner_->end_slot(stats);
  if (!pending_) return;
  pending_ = false;
  const Shared& s = *shared_;
  const Index n = this->n_, k = kp_, k_real = this->k_;
  for (Index j = 0; j < n; ++j)
    for (Index c = 0; c < k_real; ++c) stats.s1(c, j) += s1_[j * k + c];
  if (s.diagonal) {
    for (Index c = 0; c < k_real; ++c) {
      if (s.trace) {
        stats.s2(c, 0) += s2_[c];
      } else {
        for (Index j = 0; j < n; ++j) stats.s2(c, j) += s2_[j * k + c];
      }
    }
    return;
  }
  for (Index l = 0; l < n; ++l)
    for (Index j = 0; j <= l; ++j) {
      const double* cell = s2_.data() + (l * n + j) * k;
      if (s.per_component_matrix) {
        for (Index c = 0; c < k_real; ++c) stats.s2(c * n + l, j) += cell[c];
      } else {
        // Pooled (tied): one second moment; the components' shares in component order.
        double total = 0.0;
        for (Index c = 0; c < k_real; ++c) total += cell[c];
        stats.s2(l, j) += total;
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
  const Index k = kp_, k_real = this->k_;
  std::vector<double> noise;
  for (std::size_t t = 0; t < holed_.size(); ++t) {
    const Index i = holed_[t];
    const Pattern& p = *holed_pattern_[t];
    const Index h = static_cast<Index>(p.missing.size());
    const double* delta = delta_.data() + delta_at_[t];
    if (uniforms == nullptr) {
      for (Index a = 0; a < h; ++a) {
        double value = 0.0;
        for (Index c = 0; c < k_real; ++c) value += static_cast<double>(resp(i, c)) * delta[a * k + c];
        const Index j = p.missing[a];
        out(i, j) = static_cast<T>(static_cast<double>(filled_(i, j)) + value);
      }
      continue;
    }
    // The component: the first whose cumulative responsibility exceeds the uniform (the last
    // with positive responsibility when rounding leaves the total just below it).
    Index chosen = -1;
    double cumulative = 0.0;
    for (Index c = 0; c < k_real; ++c) {
      const double r = static_cast<double>(resp(i, c));
      if (r <= 0.0) continue;
      chosen = c;
      cumulative += r;
      if (uniforms[i] < cumulative) break;
    }
    // Conditional covariance P_mm^-1 = L^-T L^-1, so L^-T z has it (diagonal: z / sqrt(P)).
    noise.assign(static_cast<std::size_t>(h), 0.0);
    for (Index a = h - 1; a >= 0; --a) {
      const double z = (*normals)(i, p.missing[a]);
      if (s.diagonal) {
        noise[a] = z / std::sqrt(s.diag_precision[p.missing[a] * k + chosen]);
        continue;
      }
      double sum = z;
      for (Index b = a + 1; b < h; ++b) sum -= p.chol[(b * h + a) * k + chosen] * noise[b];
      noise[a] = sum * p.inv_diag[a * k + chosen];
    }
    for (Index a = 0; a < h; ++a) {
      const Index j = p.missing[a];
      out(i, j) = static_cast<T>(static_cast<double>(filled_(i, j)) + delta[a * k + chosen] + noise[a]);
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

#undef GAUSSMIX_EACH_LANE
