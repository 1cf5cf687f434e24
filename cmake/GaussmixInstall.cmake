# Installs the library, its headers and a relocatable CMake package (gaussmix::gaussmix), either
# under a prefix (cmake --install) or, in a wheel build, inside the Python package.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

if(SKBUILD)
  # Inside the wheel everything lives under the Python package, next to _core; the folder
  # `python -m gaussmix --cmake-dir` prints is gaussmix/share/cmake/gaussmix.
  set(_inc "gaussmix/include")
  set(_lib "gaussmix/lib")
  set(_bin "gaussmix/bin")
  set(_cmake "gaussmix/share/cmake/gaussmix")
  # The wheel's consumers usually get Eigen from the cmeel-eigen wheel, which lives beside our
  # package in site-packages (the prefix the config file computes).
  set(GAUSSMIX_EIGEN_HINTS "\${PACKAGE_PREFIX_DIR}/cmeel.prefix")
else()
  set(_inc "${CMAKE_INSTALL_INCLUDEDIR}")
  set(_lib "${CMAKE_INSTALL_LIBDIR}")
  set(_bin "${CMAKE_INSTALL_BINDIR}")
  set(_cmake "${CMAKE_INSTALL_LIBDIR}/cmake/gaussmix")
  # A CMake-only install remembers where the Eigen it was built with lives (the cmeel-eigen
  # wheel's folder, say), so its users need not find it again.
  set(GAUSSMIX_EIGEN_HINTS "${Eigen3_DIR}")
endif()

install(TARGETS gaussmix EXPORT gaussmixTargets
  ARCHIVE DESTINATION ${_lib} LIBRARY DESTINATION ${_lib} RUNTIME DESTINATION ${_bin}
  INCLUDES DESTINATION ${_inc})
install(DIRECTORY cpp/include/gaussmix DESTINATION ${_inc})
install(EXPORT gaussmixTargets NAMESPACE gaussmix:: DESTINATION ${_cmake})
configure_package_config_file(cmake/gaussmixConfig.cmake.in
  "${CMAKE_CURRENT_BINARY_DIR}/gaussmixConfig.cmake" INSTALL_DESTINATION ${_cmake})
write_basic_package_version_file("${CMAKE_CURRENT_BINARY_DIR}/gaussmixConfigVersion.cmake"
  COMPATIBILITY SameMinorVersion)
install(FILES "${CMAKE_CURRENT_BINARY_DIR}/gaussmixConfig.cmake"
  "${CMAKE_CURRENT_BINARY_DIR}/gaussmixConfigVersion.cmake" DESTINATION ${_cmake})
