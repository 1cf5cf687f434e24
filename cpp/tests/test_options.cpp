// Option and input validation: every bad value is an InvalidArgument naming the problem.
#include "check.hpp"
#include "data.hpp"

#include <limits>

using namespace gaussmix;

namespace {

FitOptions three() {
  FitOptions o;
  o.n_components = 3;
  return o;
}

}  // namespace

GM_TEST(options_defaults_are_scikit_learns) {
  const FitOptions o;
  CHECK(o.n_components == 1);
  CHECK(o.covariance_type == CovarianceType::Full);
  CHECK(o.tol == 1e-3);
  CHECK(o.reg_covar == 1e-6);
  CHECK(o.max_iter == 100);
  CHECK(o.n_init == 1);
  CHECK(o.init == InitMethod::KMeans);
  CHECK(!o.prior);
}

GM_TEST(options_out_of_range_are_rejected) {
  const RowMatrix<double> X = gaussmix_test::make_blobs(60, 1).X;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  FitOptions o = three();
  o.n_components = 0;
  CHECK_THROWS(InvalidArgument, fit(X, o), "n_components");
  o = three();
  o.tol = -1.0;
  CHECK_THROWS(InvalidArgument, fit(X, o), "tol");
  o = three();
  o.tol = nan;
  CHECK_THROWS(InvalidArgument, fit(X, o), "tol");
  o = three();
  o.reg_covar = -1e-6;
  CHECK_THROWS(InvalidArgument, fit(X, o), "reg_covar");
  o = three();
  o.max_iter = -1;
  CHECK_THROWS(InvalidArgument, fit(X, o), "max_iter");
  o = three();
  o.n_init = 0;
  CHECK_THROWS(InvalidArgument, fit(X, o), "n_init");
  o = three();
  o.n_threads = -2;
  CHECK_THROWS(InvalidArgument, fit(X, o), "n_threads");
  o = three();
  o.covariance_type = static_cast<CovarianceType>(17);
  CHECK_THROWS(InvalidArgument, fit(X, o), "covariance_type");
  CHECK_THROWS(InvalidArgument, parse_init_method("kmeans++"), "kmeans++");
  CHECK_THROWS(InvalidArgument, parse_covariance_type("diagonal"), "diagonal");
  Prior bad_prior;  // no mean, no scale: not a proper prior for 2 features
  o = three();
  o.prior = bad_prior;
  CHECK_THROWS(InvalidArgument, fit(X, o), "prior");
}

GM_TEST(options_bad_data_is_rejected) {
  RowMatrix<double> X = gaussmix_test::make_blobs(60, 1).X;
  CHECK_THROWS(InvalidArgument, fit(X.topRows(2), three()), "n_samples >= n_components");
  CHECK_THROWS(InvalidArgument, fit(X.topRows(1), FitOptions{}), "at least 2 samples");
  RowMatrix<double> with_nan = X;
  with_nan(5, 1) = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS(InvalidArgument, fit(with_nan, three()), "NaN");
  Vector<double> w = Vector<double>::Ones(X.rows() - 1);
  CHECK_THROWS(InvalidArgument, fit(X, three(), w), "sample_weight");
  w = Vector<double>::Ones(X.rows());
  w[3] = -1.0;
  CHECK_THROWS(InvalidArgument, fit(X, three(), w), "non-negative");
  w.setZero();
  CHECK_THROWS(InvalidArgument, fit(X, three(), w), "total sample weight");
  w.setZero();
  w.head(2).setOnes();
  FitOptions o = three();
  o.init = InitMethod::RandomFromData;
  CHECK_THROWS(InvalidArgument, fit(X, o, w), "positive weight");
}

GM_TEST(options_queries_refuse_bad_values_naming_the_sample) {
  RowMatrix<double> X = gaussmix_test::make_blobs(3000, 1).X;
  const GaussianMixture model = fit(X, three());
  RowMatrix<double> bad = X;
  bad(2500, 0) = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS(InvalidArgument, model.predict(bad), "NaN (sample 2500)");
  bad(2500, 0) = -std::numeric_limits<double>::infinity();
  CHECK_THROWS(InvalidArgument, model.score_samples(bad), "infinity");
  bad(2500, 0) = 1e200;
  CHECK_THROWS(InvalidArgument, model.predict_proba(bad), "Rescale the data");
  RowMatrix<float> bad32 = X.cast<float>();
  bad32(17, 1) = 1e20f;
  CHECK_THROWS(InvalidArgument, model.predict(bad32), "or pass float64 data");
}

GM_TEST(options_a_failed_fit_leaves_the_model_unchanged) {
  const RowMatrix<double> X = gaussmix_test::make_blobs(60, 1).X;
  GaussianMixture gm = fit(X, three());
  const RowMatrix<double> means = gm.means();
  FitOptions o = three();
  o.n_init = 0;
  CHECK_THROWS(InvalidArgument, gm.fit(X, o), "n_init");
  CHECK(gm.means() == means);
}

GM_TEST(options_queries_check_the_model_and_the_data) {
  const GaussianMixture empty;
  RowMatrix<double> X = gaussmix_test::make_blobs(30, 1).X;
  CHECK(!empty.is_fitted());
  CHECK_THROWS(NotFitted, empty.predict(X), "fit()");
  CHECK_THROWS(NotFitted, empty.sample(3), "fit()");
  CHECK_THROWS(NotFitted, empty.weights(), "fit()");
  const GaussianMixture gm = gaussmix_test::fitted_model(CovarianceType::Diag);
  CHECK_THROWS(InvalidArgument, gm.predict(RowMatrix<double>::Zero(4, 3)), "3 features");
  X(0, 0) = std::numeric_limits<double>::infinity();
  CHECK_THROWS(InvalidArgument, gm.score_samples(X), "infinity");
  CHECK_THROWS(InvalidArgument, gm.score(RowMatrix<double>(0, 2)), "no samples");
  CHECK_THROWS(InvalidArgument, gm.sample(0), "n >= 1");
  GaussianMixture copy = gm;
  CHECK_THROWS(InvalidArgument, copy.set_n_threads(-1), "n_threads");
  // Every library exception is a std::exception with a message.
  try {
    empty.predict(X);
    CHECK(false);
  } catch (const std::exception& e) {
    CHECK(std::string(e.what()).size() > 20);
  }
}
