"""The example program (cpp/examples) built with find_package(gaussmix) against (a) the library
inside the installed wheel (``python -m gaussmix --cmake-dir``) and (b) a CMake-only install, run
on generated CSV files and checked against the Python estimator on the same model files."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gaussmix import GaussianMixture, load

from conftest import make_mixture_data
from native_build import parse_show, run_cli


@pytest.fixture(params=["cmake-install", "wheel"])
def cli(request):
    fixture = {"cmake-install": "cli_from_cmake_install", "wheel": "cli_from_wheel"}[request.param]
    return request.getfixturevalue(fixture)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("csv")
    # Every fourth row is held out as new points: 100 from each generating component, in order.
    rows = make_mixture_data(n_samples=1200, n_features=3, n_components=3, seed=4)
    held_out = np.zeros(len(rows), dtype=bool)
    held_out[1::4] = True
    X, points = rows[~held_out], rows[held_out]
    np.savetxt(folder / "data.csv", X, delimiter=",", header="a,b,c", comments="", fmt="%.17g")
    np.savetxt(folder / "points.csv", points, delimiter=",", fmt="%.17g")
    return {"X": X, "points": points, "folder": folder}


def test_cmake_dir_holds_the_package():
    proc = subprocess.run(
        [sys.executable, "-m", "gaussmix", "--cmake-dir"], capture_output=True, text=True
    )
    if proc.returncode != 0:
        # The source tree has no installed library: the command must say so, not print a path.
        assert "carries no C++ library" in proc.stderr and proc.stdout == ""
        pytest.skip(
            "gaussmix is imported from the source tree; the wheel layout is tested when installed"
        )
    folder = Path(proc.stdout.strip())
    assert (folder / "gaussmixConfig.cmake").is_file()
    assert (folder / "gaussmixConfigVersion.cmake").is_file()
    package = folder.parents[2]
    assert (package / "include" / "gaussmix" / "gaussmix.hpp").is_file()
    assert list((package / "lib").glob("libgaussmix.*"))


def test_python_model_labels_new_points_in_cpp(cli, data, tmp_path):
    gm = GaussianMixture(n_components=3, covariance_type="full", random_state=0).fit(data["X"])
    model = tmp_path / "model.gmm"
    gm.save(model)
    proc = run_cli(cli, "predict", model, data["folder"] / "points.csv")
    labels = np.array(proc.stdout.split(), dtype=np.int64)
    np.testing.assert_array_equal(labels, gm.predict(data["points"]))
    # Three clusters were found and used.
    assert set(labels) == {0, 1, 2}


@pytest.mark.parametrize("covariance_type", ["full", "spherical"])
def test_cpp_fit_loads_in_python(cli, data, tmp_path, covariance_type):
    model = tmp_path / "model.gmm"
    proc = run_cli(
        cli,
        "fit",
        data["folder"] / "data.csv",
        model,
        "--k",
        3,
        "--covariance-type",
        covariance_type,
        "--seed",
        3,
    )
    assert f"fitted 3 components ({covariance_type}) to 900 samples with 3 features" in proc.stdout
    gm = load(model)
    assert gm.covariance_type == covariance_type and gm.n_components == 3
    shown = parse_show(run_cli(cli, "show", model).stdout)
    np.testing.assert_array_equal(gm.means_.ravel(), shown["means"])
    assert gm.n_iter_ == int(shown["n_iter"]) and gm.converged_ == bool(int(shown["converged"]))
    labels = np.array(
        run_cli(cli, "predict", model, data["folder"] / "points.csv").stdout.split(), dtype=np.int64
    )
    np.testing.assert_array_equal(labels, gm.predict(data["points"]))
    # The C++ fit found the generating clusters: each is (almost) one label.
    truth = np.repeat(np.arange(3), 100)
    agree = sum(np.bincount(labels[truth == t]).max() for t in range(3)) / len(truth)
    assert agree > 0.95


def test_cli_reports_errors(cli, data, tmp_path):
    proc = run_cli(
        cli, "predict", tmp_path / "missing.gmm", data["folder"] / "points.csv", check=False
    )
    assert proc.returncode == 1 and "missing.gmm" in proc.stderr
    bad = tmp_path / "bad.gmm"
    bad.write_bytes(b"not a model at all")
    proc = run_cli(cli, "show", bad, check=False)
    assert proc.returncode == 1 and "magic" in proc.stderr
    proc = run_cli(
        cli, "fit", data["folder"] / "data.csv", tmp_path / "m.gmm", "--k", 0, check=False
    )
    assert proc.returncode == 1 and "n_components" in proc.stderr
    proc = run_cli(cli, "fit", data["folder"] / "data.csv", check=False)
    assert proc.returncode == 2 and "usage" in proc.stderr
