"""Where the installed wheel keeps the C++ library's headers, archive and CMake package."""

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def get_cmake_dir() -> str:
    """Folder holding ``gaussmixConfig.cmake`` of the C++ library installed with this package.

    Put it on ``CMAKE_PREFIX_PATH`` (or pass it as ``gaussmix_DIR``) so that a CMake project's
    ``find_package(gaussmix CONFIG REQUIRED)`` finds ``gaussmix::gaussmix``; the command line
    ``python -m gaussmix --cmake-dir`` prints it.

    Returns
    -------
    path : str

    Raises
    ------
    FileNotFoundError
        When gaussmix is imported from a source tree rather than an installed wheel: only the
        wheel carries the library and its CMake package.

    Examples
    --------
    >>> import gaussmix
    >>> folder = gaussmix.get_cmake_dir()  # doctest: +SKIP
    >>> # cmake -DCMAKE_PREFIX_PATH="$folder" ...
    """
    folder = _PACKAGE / "share" / "cmake" / "gaussmix"
    if not (folder / "gaussmixConfig.cmake").is_file():
        raise FileNotFoundError(
            f"gaussmix at {_PACKAGE} carries no C++ library (no {folder / 'gaussmixConfig.cmake'}): "
            "it is imported from a source tree. Install the package (pip install .) or build the "
            "library with CMake (cmake --install) and use that prefix instead."
        )
    return str(folder)
