"""The C++ unit tests (cpp/tests, run by ctest), built without Python from this source tree."""

import re


def test_ctest_suite_passes(cmake_tools, native_build):
    proc = cmake_tools.run(
        cmake_tools.ctest, "--test-dir", native_build["build"], "--output-on-failure"
    )
    assert "100% tests passed" in proc.stdout
    # Each group ran; an empty selection fails inside the test binary.
    found = set(re.findall(r"Test\s+#\d+: (\w+) \.+\s+Passed", proc.stdout))
    assert found == {"model", "options", "io", "kernels"}


def test_cmake_install_layout(native_build):
    prefix = native_build["prefix"]
    assert (prefix / "include" / "gaussmix" / "gaussmix.hpp").is_file()
    assert (prefix / "include" / "gaussmix" / "model.hpp").is_file()
    assert (prefix / "include" / "gaussmix" / "io.hpp").is_file()
    libs = list((prefix / "lib").glob("libgaussmix.*")) + list(
        (prefix / "lib64").glob("libgaussmix.*")
    )
    assert libs
    configs = list(prefix.glob("lib*/cmake/gaussmix/gaussmixConfig.cmake"))
    assert len(configs) == 1
    assert (configs[0].parent / "gaussmixConfigVersion.cmake").is_file()
    text = configs[0].read_text()
    # Its usage requirements: Eigen (with the folder it was built with as a fallback) and OpenMP.
    assert "find_package(Eigen3 3.4 CONFIG" in text and "find_dependency(OpenMP" in text
    assert "NO_DEFAULT_PATH" in text and "gaussmix_NOT_FOUND_MESSAGE" in text
