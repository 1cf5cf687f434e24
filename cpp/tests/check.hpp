// A small hand-written test harness: named test functions, CHECK macros, a runner with a filter.
// (No test library is needed, so the C++ tests build wherever the library builds.)
#pragma once

#include <cmath>
#include <functional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace gaussmix_test {

struct TestCase {
  std::string name;
  std::function<void()> body;
};

inline std::vector<TestCase>& registry() {
  static std::vector<TestCase> tests;
  return tests;
}

struct Register {
  Register(const char* name, std::function<void()> body) { registry().push_back({name, std::move(body)}); }
};

/// Thrown by a failed check; the runner reports it and goes on with the next test.
struct CheckFailed : std::runtime_error {
  using std::runtime_error::runtime_error;
};

[[noreturn]] inline void fail(const char* file, int line, const std::string& what) {
  std::ostringstream s;
  s << file << ":" << line << ": " << what;
  throw CheckFailed(s.str());
}

}  // namespace gaussmix_test

#define GM_CONCAT_(a, b) a##b
#define GM_CONCAT(a, b) GM_CONCAT_(a, b)

/// Defines and registers a test: GM_TEST(io_round_trip) { ... }
#define GM_TEST(name)                                                                               \
  static void GM_CONCAT(test_, name)();                                                             \
  static const ::gaussmix_test::Register GM_CONCAT(register_, name)(#name, GM_CONCAT(test_, name)); \
  static void GM_CONCAT(test_, name)()

#define CHECK(cond)                                                                    \
  do {                                                                                 \
    if (!(cond)) ::gaussmix_test::fail(__FILE__, __LINE__, "CHECK(" #cond ") failed"); \
  } while (0)

/// |a - b| <= tol, with both values in the message.
#define CHECK_NEAR(a, b, tol)                                                                              \
  do {                                                                                                     \
    const double gm_a = (a), gm_b = (b);                                                                   \
    if (!(std::abs(gm_a - gm_b) <= (tol))) {                                                               \
      std::ostringstream gm_s;                                                                             \
      gm_s.precision(17);                                                                                  \
      gm_s << "CHECK_NEAR(" #a ", " #b ") failed: " << gm_a << " vs " << gm_b << " (tol " << (tol) << ")"; \
      ::gaussmix_test::fail(__FILE__, __LINE__, gm_s.str());                                               \
    }                                                                                                      \
  } while (0)

/// expr throws exactly ExceptionType (or a subclass) with `fragment` in its message.
#define CHECK_THROWS(ExceptionType, expr, fragment)                                                             \
  do {                                                                                                          \
    bool gm_thrown = false;                                                                                     \
    try {                                                                                                       \
      (void)(expr);                                                                                             \
    } catch (const ExceptionType& gm_e) {                                                                       \
      gm_thrown = true;                                                                                         \
      if (std::string(gm_e.what()).find(fragment) == std::string::npos)                                         \
        ::gaussmix_test::fail(__FILE__, __LINE__,                                                               \
                              std::string("message of " #expr " lacks '") + (fragment) + "': " + gm_e.what());  \
    } catch (const std::exception& gm_e) {                                                                      \
      ::gaussmix_test::fail(__FILE__, __LINE__, std::string(#expr " threw another exception: ") + gm_e.what()); \
    }                                                                                                           \
    if (!gm_thrown) ::gaussmix_test::fail(__FILE__, __LINE__, #expr " did not throw " #ExceptionType);          \
  } while (0)
