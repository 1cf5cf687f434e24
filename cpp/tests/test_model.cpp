// GaussianMixture: recovery of known clusters, consistency of the queries, sampling.
#include "check.hpp"
#include "data.hpp"

#include <Eigen/LU>

#include <algorithm>
#include <cmath>
#include <limits>

using namespace gaussmix;
using gaussmix_test::Blobs;
using gaussmix_test::make_blobs;

namespace {

const CovarianceType kTypes[] = {CovarianceType::Full, CovarianceType::Tied, CovarianceType::Diag,
                                 CovarianceType::Spherical};
// mclust's constrained models: the queries and the file work for them as for the four above.
const CovarianceType kAllTypes[] = {
    CovarianceType::Full, CovarianceType::Tied, CovarianceType::Diag, CovarianceType::Spherical, CovarianceType::EII,
    CovarianceType::EEI,  CovarianceType::EVI,  CovarianceType::EEV,  CovarianceType::EVV,       CovarianceType::VEI,
    CovarianceType::VEE,  CovarianceType::VEV,  CovarianceType::EVE,  CovarianceType::VVE};

// For each true centre, the index of the fitted mean closest to it.
std::vector<Index> match_components(const RowMatrix<double>& means, const RowMatrix<double>& centres) {
  std::vector<Index> match;
  for (Index t = 0; t < centres.rows(); ++t) {
    Index best = 0;
    (means.rowwise() - centres.row(t)).rowwise().squaredNorm().minCoeff(&best);
    match.push_back(best);
  }
  return match;
}

double log_sum_exp(const Eigen::RowVectorXd& v) {
  const double top = v.maxCoeff();
  return top + std::log((v.array() - top).exp().sum());
}

}  // namespace

GM_TEST(model_fit_recovers_known_clusters) {
  const Blobs b = make_blobs(3000, 11);
  for (CovarianceType type : kTypes) {
    FitOptions options;
    options.n_components = 3;
    options.covariance_type = type;
    options.seed = 3;
    const GaussianMixture gm = fit(b.X, options);
    CHECK(gm.fit_info().converged);
    const auto match = match_components(gm.means(), b.centres);
    std::vector<Index> sorted = match;
    std::sort(sorted.begin(), sorted.end());
    CHECK(std::unique(sorted.begin(), sorted.end()) == sorted.end());  // one fitted mean per centre
    const double true_weights[3] = {0.5, 0.3, 0.2};
    for (Index t = 0; t < 3; ++t) {
      CHECK((gm.means().row(match[t]) - b.centres.row(t)).norm() < 0.15);
      CHECK_NEAR(gm.weights()[match[t]], true_weights[t], 0.01);
    }
    const Vector<std::int64_t> labels = gm.predict(b.X);
    Index agree = 0;
    for (Index i = 0; i < b.X.rows(); ++i) agree += labels[i] == match[b.truth[i]];
    CHECK(agree >= b.X.rows() * 995 / 1000);
  }
}

GM_TEST(model_full_covariances_match_the_generating_ones) {
  const Blobs b = make_blobs(4000, 5);
  FitOptions options;
  options.n_components = 3;
  options.seed = 1;
  const GaussianMixture gm = fit(b.X, options);
  const auto match = match_components(gm.means(), b.centres);
  // Component 0 was drawn with factor [[1, 0], [0.5, 0.8]]: covariance [[1, 0.5], [0.5, 0.89]].
  const auto cov = gm.covariances().middleRows(2 * match[0], 2);
  CHECK_NEAR(cov(0, 0), 1.0, 0.08);
  CHECK_NEAR(cov(0, 1), 0.5, 0.06);
  CHECK_NEAR(cov(1, 1), 0.89, 0.07);
}

GM_TEST(model_queries_agree_with_each_other) {
  const Blobs b = make_blobs(500, 2);
  for (CovarianceType type : kAllTypes) {
    const GaussianMixture gm = gaussmix_test::fitted_model(type);
    const RowMatrix<double> proba = gm.predict_proba(b.X);
    const Vector<std::int64_t> labels = gm.predict(b.X);
    const Vector<double> scores = gm.score_samples(b.X);
    CHECK(proba.rows() == b.X.rows() && proba.cols() == 3);
    for (Index i = 0; i < b.X.rows(); ++i) {
      CHECK_NEAR(proba.row(i).sum(), 1.0, 1e-12);
      Index best = 0;
      proba.row(i).maxCoeff(&best);
      CHECK(labels[i] == best);
    }
    CHECK_NEAR(gm.score(b.X), scores.mean(), 1e-12);
    const double m = static_cast<double>(b.X.rows());
    const double p = static_cast<double>(gm.n_parameters());
    CHECK_NEAR(gm.bic(b.X), -2.0 * scores.sum() + p * std::log(m), 1e-8);
    CHECK_NEAR(gm.aic(b.X), -2.0 * scores.sum() + 2.0 * p, 1e-8);
  }
}

GM_TEST(model_score_samples_is_the_mixture_density) {
  // A hand-built two-component full model, its density evaluated from the textbook formula.
  RowMatrix<double> means(2, 2), cov(4, 2);
  means << 0.0, 1.0, 3.0, -1.0;
  cov << 2.0, 0.3, 0.3, 1.0, 0.5, -0.1, -0.1, 0.4;
  Vector<double> weights(2);
  weights << 0.4, 0.6;
  const GaussianMixture gm(Mixture::from_covariances(CovarianceType::Full, weights, means, cov));
  RowMatrix<double> X(3, 2);
  X << 0.5, 0.5, 2.0, -2.0, -1.0, 3.0;
  const Vector<double> got = gm.score_samples(X);
  for (Index i = 0; i < 3; ++i) {
    Eigen::RowVectorXd terms(2);
    for (Index c = 0; c < 2; ++c) {
      const Eigen::Matrix2d S = cov.middleRows(2 * c, 2);
      const Eigen::Vector2d d = (X.row(i) - means.row(c)).transpose();
      terms[c] =
          std::log(weights[c]) - std::log(2.0 * M_PI) - 0.5 * std::log(S.determinant()) - 0.5 * d.dot(S.inverse() * d);
    }
    CHECK_NEAR(got[i], log_sum_exp(terms), 1e-12);
  }
}

GM_TEST(model_fit_is_reproducible_and_thread_independent) {
  const Blobs b = make_blobs(3000, 4);
  FitOptions options;
  options.n_components = 3;
  options.n_init = 2;
  options.seed = 9;
  options.n_threads = 1;
  const GaussianMixture one = fit(b.X, options);
  options.n_threads = 2;
  const GaussianMixture two = fit(b.X, options);
  CHECK(one.means() == two.means());
  CHECK(one.covariances() == two.covariances());
  CHECK(one.fit_info().lower_bound == two.fit_info().lower_bound);
}

GM_TEST(model_every_init_method_fits) {
  const Blobs b = make_blobs(900, 6);
  for (InitMethod init : {InitMethod::KMeans, InitMethod::KMeansPlusPlus, InitMethod::Random,
                          InitMethod::RandomFromData, InitMethod::Hierarchical}) {
    FitOptions options;
    options.n_components = 3;
    options.init = init;
    options.n_init = 3;
    options.seed = 5;
    const GaussianMixture gm = fit(b.X, options);
    CHECK(parse_init_method(to_string(init)) == init);
    CHECK(gm.fit_info().n_iter >= 1);
    // Three restarts find the three clusters whatever the start.
    const auto match = match_components(gm.means(), b.centres);
    for (Index t = 0; t < 3; ++t) CHECK((gm.means().row(match[t]) - b.centres.row(t)).norm() < 0.3);
  }
}

GM_TEST(model_hierarchy_cuts_nested_partitions) {
  // Two tight pairs far apart and one row between: the pairs merge first, the middle row last.
  RowMatrix<double> Z(5, 2);
  Z << 0.0, 0.0, 10.0, 10.0, 0.1, 0.0, 10.0, 10.1, 5.0, 5.0;
  const Hierarchy tree = agglomerate(Z);
  CHECK(tree.merges.rows() == 4 && tree.costs.size() == 4);
  CHECK(tree.merges(0, 0) == 0 && tree.merges(0, 1) == 2);
  CHECK(tree.merges(1, 0) == 1 && tree.merges(1, 1) == 3);
  const Vector<std::int64_t> three = tree.labels(3);
  CHECK(three[0] == 0 && three[2] == 0 && three[1] == 1 && three[3] == 1 && three[4] == 2);
  CHECK(tree.labels(1).maxCoeff() == 0 && tree.labels(5).maxCoeff() == 4);
  CHECK_THROWS(InvalidArgument, tree.labels(6), "1 to 5 clusters");
  CHECK_THROWS(InvalidArgument, agglomerate(RowMatrix<double>(0, 2)), "at least one row");
  // The scaled SVD: centred, uncorrelated coordinates, each axis's scatter its singular value.
  const Blobs b = make_blobs(400, 2);
  const RowMatrix<double> S = scaled_svd<double>(b.X);
  CHECK(S.cols() == b.X.cols() && S.colwise().sum().cwiseAbs().maxCoeff() < 1e-9);
  const Eigen::MatrixXd gram = S.transpose() * S;
  CHECK((gram - Eigen::MatrixXd(gram.diagonal().asDiagonal())).cwiseAbs().maxCoeff() < 1e-8);
}

GM_TEST(model_max_iter_zero_keeps_the_initial_parameters) {
  FitOptions options;
  options.n_components = 3;
  options.max_iter = 0;
  const GaussianMixture gm = fit(make_blobs(300, 1).X, options);
  CHECK(gm.fit_info().n_iter == 0);
  CHECK(!gm.fit_info().converged);
  CHECK(std::isinf(gm.fit_info().lower_bound));
}

// MAP fits of every model with a conjugate prior: the prior's scale is a matrix (full, tied,
// EEV, VEV), a variance per feature (diag, EEI, EVI, VEI) or one variance (spherical, EII); the
// other four models refuse a prior, naming themselves. More iterations never lower the bound.
GM_TEST(model_map_fits_every_model_with_a_conjugate_prior) {
  const Blobs b = make_blobs(600, 4);
  const Index n = b.X.cols();
  Prior prior;
  prior.mean = b.X.colwise().mean().transpose();
  prior.degrees_of_freedom = static_cast<double>(n) + 2.0;
  for (CovarianceType type : kAllTypes) {
    const bool variances = type == CovarianceType::Diag || type == CovarianceType::EEI || type == CovarianceType::EVI ||
                           type == CovarianceType::VEI;
    const bool variance = type == CovarianceType::Spherical || type == CovarianceType::EII;
    if (variance) {
      prior.scale = RowMatrix<double>::Constant(1, 1, 0.5);
    } else if (variances) {
      prior.scale = RowMatrix<double>::Constant(1, n, 0.5);
    } else {
      prior.scale = 0.5 * RowMatrix<double>::Identity(n, n);
    }
    FitOptions options;
    options.n_components = 3;
    options.covariance_type = type;
    options.seed = 5;
    options.prior = prior;
    const bool refused = type == CovarianceType::VEE || type == CovarianceType::EVE || type == CovarianceType::VVE ||
                         type == CovarianceType::EVV;
    if (refused) {
      CHECK_THROWS(InvalidArgument, fit(b.X, options),
                   "priors are not available for covariance_type '" + to_string(type));
      continue;
    }
    double bound = -std::numeric_limits<double>::infinity();
    for (int max_iter : {1, 2, 4, 8}) {
      options.max_iter = max_iter;
      const GaussianMixture gm = fit(b.X, options);
      CHECK(gm.fit_info().lower_bound >= bound - 1e-12 * std::abs(bound));
      bound = gm.fit_info().lower_bound;
      CHECK(std::isfinite(bound));
    }
  }
}

GM_TEST(model_float_data_gives_a_close_model) {
  const Blobs b = make_blobs(2000, 8);
  FitOptions options;
  options.n_components = 3;
  options.seed = 2;
  const GaussianMixture g64 = fit(b.X, options);
  const RowMatrix<float> Xf = b.X.cast<float>();
  const GaussianMixture g32 = fit(Xf, options);
  CHECK((g64.means() - g32.means()).cwiseAbs().maxCoeff() < 1e-3);
  CHECK((g64.predict(b.X).array() == g32.predict(Xf).array()).all());
  CHECK_NEAR(g64.score(b.X), g32.score(Xf), 1e-4);
}

GM_TEST(model_sample_weights_act_like_repeated_rows) {
  // Fitting from given parameters (no random start), integer weights equal repeated rows.
  const Blobs b = make_blobs(300, 3);
  Vector<double> w(b.X.rows());
  for (Index i = 0; i < w.size(); ++i) w[i] = static_cast<double>(i % 3);
  RowMatrix<double> repeated(static_cast<Index>(w.sum()), 2);
  for (Index i = 0, r = 0; i < w.size(); ++i)
    for (int j = 0; j < static_cast<int>(w[i]); ++j) repeated.row(r++) = b.X.row(i);
  FitOptions options;
  options.n_components = 1;
  const GaussianMixture weighted = fit(b.X, options, w);
  const GaussianMixture plain = fit(repeated, options);
  CHECK((weighted.means() - plain.means()).cwiseAbs().maxCoeff() < 1e-10);
  CHECK((weighted.covariances() - plain.covariances()).cwiseAbs().maxCoeff() < 1e-10);
}

GM_TEST(model_sample_is_grouped_reproducible_and_distributed_as_the_model) {
  for (CovarianceType type : kTypes) {
    const GaussianMixture gm = gaussmix_test::fitted_model(type);
    const Samples s = gm.sample(20000, 42);
    CHECK(s.X.rows() == 20000 && s.X.cols() == 2 && s.labels.size() == 20000);
    for (Index i = 1; i < s.labels.size(); ++i) CHECK(s.labels[i - 1] <= s.labels[i]);
    const Samples again = gm.sample(20000, 42);
    CHECK(again.X == s.X && (again.labels.array() == s.labels.array()).all());
    CHECK(gm.sample(20000, 43).X != s.X);
    for (Index c = 0; c < 3; ++c) {
      const Index count = (s.labels.array() == c).count();
      CHECK_NEAR(static_cast<double>(count) / 20000.0, gm.weights()[c], 0.015);
      Index first = 0;
      while (s.labels[first] != c) ++first;
      const RowMatrix<double> rows = s.X.middleRows(first, count);
      const Eigen::RowVectorXd mean = rows.colwise().mean();
      CHECK((mean - gm.means().row(c)).norm() < 0.06);
      const RowMatrix<double> centred = rows.rowwise() - mean;
      const Eigen::MatrixXd cov = centred.transpose() * centred / static_cast<double>(count - 1);
      Eigen::MatrixXd expected(2, 2);
      switch (type) {
        case CovarianceType::Full:
        default:  // kTypes holds scikit-learn's four only
          expected = gm.covariances().middleRows(2 * c, 2);
          break;
        case CovarianceType::Tied:
          expected = gm.covariances();
          break;
        case CovarianceType::Diag:
          expected = gm.covariances().row(c).asDiagonal();
          break;
        case CovarianceType::Spherical:
          expected = Eigen::MatrixXd::Identity(2, 2) * gm.covariances()(c, 0);
          break;
      }
      CHECK((cov - expected).cwiseAbs().maxCoeff() < 0.1 * expected.cwiseAbs().maxCoeff());
    }
  }
}
