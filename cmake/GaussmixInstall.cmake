# Installs the library, its headers and a relocatable CMake package (gaussmix::gaussmix).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

if(SKBUILD)
  # Inside the wheel everything lives under the Python package, next to _core.
  set(GAUSSMIX_INSTALL_PREFIX_REL "gaussmix")
  set(_inc "${GAUSSMIX_INSTALL_PREFIX_REL}/include")
  set(_lib "${GAUSSMIX_INSTALL_PREFIX_REL}/lib")
  set(_cmake "${GAUSSMIX_INSTALL_PREFIX_REL}/share/cmake/gaussmix")
else()
  set(_inc "${CMAKE_INSTALL_INCLUDEDIR}")
  set(_lib "${CMAKE_INSTALL_LIBDIR}")
  set(_cmake "${CMAKE_INSTALL_LIBDIR}/cmake/gaussmix")
endif()

install(TARGETS gaussmix EXPORT gaussmixTargets
  ARCHIVE DESTINATION ${_lib} LIBRARY DESTINATION ${_lib} RUNTIME DESTINATION bin
  INCLUDES DESTINATION ${_inc})
install(DIRECTORY cpp/include/gaussmix DESTINATION ${_inc})
install(EXPORT gaussmixTargets NAMESPACE gaussmix:: DESTINATION ${_cmake})
configure_package_config_file(cmake/gaussmixConfig.cmake.in
  "${CMAKE_CURRENT_BINARY_DIR}/gaussmixConfig.cmake" INSTALL_DESTINATION ${_cmake})
write_basic_package_version_file("${CMAKE_CURRENT_BINARY_DIR}/gaussmixConfigVersion.cmake"
  COMPATIBILITY SameMinorVersion)
install(FILES "${CMAKE_CURRENT_BINARY_DIR}/gaussmixConfig.cmake"
  "${CMAKE_CURRENT_BINARY_DIR}/gaussmixConfigVersion.cmake" DESTINATION ${_cmake})
