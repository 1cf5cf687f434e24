// gaussmix_cli: fit a Gaussian mixture to a CSV file and save it, or load a saved model (written
// by this program or by Python's GaussianMixture.save) and label, score or draw points.
//
//   gaussmix_cli fit DATA.csv MODEL.gmm [--k K] [--covariance-type full|tied|diag|spherical]
//                [--init kmeans|k-means++|random|random_from_data] [--n-init N] [--max-iter N]
//                [--tol T] [--reg-covar R] [--seed S] [--threads N] [--dtype float64|float32]
//   gaussmix_cli predict MODEL.gmm POINTS.csv [--proba | --scores]
//   gaussmix_cli show MODEL.gmm
//   gaussmix_cli sample MODEL.gmm N [--seed S]
#include "csv.hpp"

#include <gaussmix/gaussmix.hpp>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

constexpr const char* kUsage =
    "usage: gaussmix_cli fit DATA.csv MODEL.gmm [--k K] [--covariance-type TYPE] [--init INIT]\n"
    "                        [--n-init N] [--max-iter N] [--tol T] [--reg-covar R] [--seed S]\n"
    "                        [--threads N] [--dtype float64|float32]\n"
    "       gaussmix_cli predict MODEL.gmm POINTS.csv [--proba | --scores]\n"
    "       gaussmix_cli show MODEL.gmm\n"
    "       gaussmix_cli sample MODEL.gmm N [--seed S]\n";

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Positional arguments and --name value / --flag options.
struct Args {
  std::vector<std::string> positional;
  std::map<std::string, std::string> options;

  std::string get(const std::string& name, const std::string& fallback) {
    const auto it = options.find(name);
    if (it == options.end()) return fallback;
    std::string value = it->second;
    options.erase(it);
    return value;
  }
  bool flag(const std::string& name) { return options.erase(name) > 0; }
  void done() {
    if (!options.empty()) throw UsageError("unknown option --" + options.begin()->first);
  }
};

Args parse(int argc, char** argv, const std::vector<std::string>& flags) {
  Args args;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.rfind("--", 0) != 0) {
      args.positional.push_back(a);
      continue;
    }
    const std::string name = a.substr(2);
    bool is_flag = false;
    for (const auto& f : flags) is_flag = is_flag || f == name;
    if (is_flag) {
      args.options[name] = "";
    } else {
      if (i + 1 >= argc) throw UsageError("option " + a + " needs a value");
      args.options[name] = argv[++i];
    }
  }
  return args;
}

long long to_integer(const std::string& text, const std::string& what) {
  char* end = nullptr;
  const long long value = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0') throw UsageError(what + " must be an integer, got '" + text + "'");
  return value;
}

double to_number(const std::string& text, const std::string& what) {
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0') throw UsageError(what + " must be a number, got '" + text + "'");
  return value;
}

// Doubles printed with 17 significant digits read back as the same double.
void print_row(const double* values, gaussmix::Index n) {
  for (gaussmix::Index j = 0; j < n; ++j) std::printf(j ? ",%.17g" : "%.17g", values[j]);
  std::printf("\n");
}

int run_fit(Args args) {
  if (args.positional.size() != 2) throw UsageError("fit needs DATA.csv and MODEL.gmm");
  gaussmix::FitOptions options;
  options.n_components = to_integer(args.get("k", "1"), "--k");
  options.covariance_type = gaussmix::parse_covariance_type(args.get("covariance-type", "full"));
  options.init = gaussmix::parse_init_method(args.get("init", "kmeans"));
  options.n_init = static_cast<int>(to_integer(args.get("n-init", "1"), "--n-init"));
  options.max_iter = static_cast<int>(to_integer(args.get("max-iter", "100"), "--max-iter"));
  options.tol = to_number(args.get("tol", "1e-3"), "--tol");
  options.reg_covar = to_number(args.get("reg-covar", "1e-6"), "--reg-covar");
  options.seed = static_cast<std::uint64_t>(to_integer(args.get("seed", "0"), "--seed"));
  options.n_threads = static_cast<int>(to_integer(args.get("threads", "0"), "--threads"));
  const std::string dtype = args.get("dtype", "float64");
  if (dtype != "float64" && dtype != "float32") throw UsageError("--dtype must be float64 or float32");
  args.done();

  const gaussmix::RowMatrix<double> X = read_csv(args.positional[0]);
  const gaussmix::GaussianMixture model = gaussmix::fit(X, options);
  gaussmix::save(model, args.positional[1],
                 dtype == "float32" ? gaussmix::FileDtype::Float32 : gaussmix::FileDtype::Float64);
  const gaussmix::FitInfo& info = model.fit_info();
  std::printf("fitted %lld components (%s) to %lld samples with %lld features\n",
              static_cast<long long>(model.n_components()), gaussmix::to_string(model.covariance_type()).c_str(),
              static_cast<long long>(X.rows()), static_cast<long long>(X.cols()));
  std::printf("EM iterations %d, converged %s, lower bound %.6f, BIC %.3f\n", info.n_iter,
              info.converged ? "yes" : "no", info.lower_bound, model.bic(X));
  return 0;
}

int run_predict(Args args) {
  if (args.positional.size() != 2) throw UsageError("predict needs MODEL.gmm and POINTS.csv");
  const bool proba = args.flag("proba"), scores = args.flag("scores");
  args.done();
  if (proba && scores) throw UsageError("--proba and --scores exclude each other");
  const gaussmix::GaussianMixture model = gaussmix::load(args.positional[0]);
  const gaussmix::RowMatrix<double> X = read_csv(args.positional[1]);
  if (proba) {
    const gaussmix::RowMatrix<double> p = model.predict_proba(X);
    for (gaussmix::Index i = 0; i < p.rows(); ++i) print_row(p.row(i).data(), p.cols());
  } else if (scores) {
    const gaussmix::Vector<double> s = model.score_samples(X);
    for (gaussmix::Index i = 0; i < s.size(); ++i) print_row(&s[i], 1);
  } else {
    const gaussmix::Vector<std::int64_t> labels = model.predict(X);
    for (gaussmix::Index i = 0; i < labels.size(); ++i) std::printf("%lld\n", static_cast<long long>(labels[i]));
  }
  return 0;
}

int run_show(Args args) {
  if (args.positional.size() != 1) throw UsageError("show needs MODEL.gmm");
  args.done();
  const gaussmix::GaussianMixture model = gaussmix::load(args.positional[0]);
  const gaussmix::FitInfo& info = model.fit_info();
  std::printf("covariance_type %s\n", gaussmix::to_string(model.covariance_type()).c_str());
  std::printf("n_components %lld\nn_features %lld\n", static_cast<long long>(model.n_components()),
              static_cast<long long>(model.n_features()));
  std::printf("n_iter %d\nconverged %d\nlower_bound %.17g\n", info.n_iter, info.converged ? 1 : 0, info.lower_bound);
  // Arrays flattened in row-major storage order, one per line.
  const auto print_array = [](const char* name, const gaussmix::RowMatrix<double>& a) {
    std::printf("%s ", name);
    print_row(a.data(), a.size());
  };
  print_array("weights", model.weights().transpose());
  print_array("means", model.means());
  print_array("covariances", model.covariances());
  print_array("precisions_cholesky", model.precisions_cholesky());
  return 0;
}

int run_sample(Args args) {
  if (args.positional.size() != 2) throw UsageError("sample needs MODEL.gmm and N");
  const auto seed = static_cast<std::uint64_t>(to_integer(args.get("seed", "0"), "--seed"));
  args.done();
  const gaussmix::GaussianMixture model = gaussmix::load(args.positional[0]);
  const gaussmix::Samples s = model.sample(to_integer(args.positional[1], "N"), seed);
  for (gaussmix::Index i = 0; i < s.X.rows(); ++i) {
    std::printf("%lld,", static_cast<long long>(s.labels[i]));
    print_row(s.X.row(i).data(), s.X.cols());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string command = argc > 1 ? argv[1] : "";
  try {
    if (command == "fit") return run_fit(parse(argc, argv, {}));
    if (command == "predict") return run_predict(parse(argc, argv, {"proba", "scores"}));
    if (command == "show") return run_show(parse(argc, argv, {}));
    if (command == "sample") return run_sample(parse(argc, argv, {}));
    if (command == "-h" || command == "--help") {
      std::cout << kUsage;
      return 0;
    }
    throw UsageError(command.empty() ? "no command given" : "unknown command '" + command + "'");
  } catch (const UsageError& e) {
    std::cerr << "gaussmix_cli: " << e.what() << "\n" << kUsage;
    return 2;
  } catch (const std::exception& e) {
    // Library errors (gaussmix::Error) and CSV errors: the message says what and where.
    std::cerr << "gaussmix_cli: error: " << e.what() << "\n";
    return 1;
  }
}
