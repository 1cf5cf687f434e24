// Runs the registered tests whose names start with argv[1] (all without an argument).
#include "check.hpp"

#include <exception>
#include <iostream>

int main(int argc, char** argv) {
  const std::string prefix = argc > 1 ? argv[1] : "";
  int run = 0, failed = 0;
  for (const auto& test : gaussmix_test::registry()) {
    if (test.name.rfind(prefix, 0) != 0) continue;
    ++run;
    try {
      test.body();
      std::cout << "ok      " << test.name << "\n";
    } catch (const std::exception& e) {
      ++failed;
      std::cout << "FAILED  " << test.name << ": " << e.what() << "\n";
    }
  }
  std::cout << run - failed << " of " << run << " tests passed\n";
  // Selecting nothing is a mistake in the test setup, not a pass.
  return (failed == 0 && run > 0) ? 0 : 1;
}
