# Finds Eigen 3.4: from the system or CMAKE_PREFIX_PATH first, otherwise from the cmeel-eigen
# wheel of the Python environment that builds us. That wheel puts its CMake package under a
# `cmeel.prefix` folder inside a sys.path entry of the *build* environment (pip's isolated one
# during `pip install .`), so we ask the interpreter itself rather than sysconfig's purelib.
function(gaussmix_find_eigen)
  find_package(Eigen3 3.4 CONFIG QUIET)
  if(NOT Eigen3_FOUND)
    find_package(Python COMPONENTS Interpreter QUIET)
    if(Python_EXECUTABLE)
      execute_process(
        COMMAND "${Python_EXECUTABLE}" -c
          "import os, sys; print(';'.join(os.path.join(p, 'cmeel.prefix') for p in sys.path if os.path.isdir(os.path.join(p, 'cmeel.prefix'))))"
        OUTPUT_VARIABLE _cmeel_prefixes OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
      if(_cmeel_prefixes)
        find_package(Eigen3 3.4 CONFIG QUIET PATHS ${_cmeel_prefixes} NO_DEFAULT_PATH)
      endif()
    endif()
  endif()
  if(NOT Eigen3_FOUND)
    message(FATAL_ERROR
      "gaussmix needs Eigen 3.4. Install it (e.g. apt-get install libeigen3-dev, or "
      "pip install cmeel-eigen) or point CMAKE_PREFIX_PATH at its prefix.")
  endif()
  message(STATUS "gaussmix: Eigen ${Eigen3_VERSION} from ${Eigen3_DIR}")
  set(Eigen3_DIR "${Eigen3_DIR}" PARENT_SCOPE)
endfunction()
