"""The model file across Python and C++: exact round trips both ways for every covariance type
and dtype, the documented layout (docs/model_format.md), and rejection of damaged files."""

import io
import json
import struct
import zlib

import numpy as np
import pytest

import gaussmix
from gaussmix import GaussianMixture
from gaussmix._sklearn_compat import NotFittedError

from conftest import COVARIANCE_TYPES, make_mixture_data
from native_build import parse_show, run_cli

DTYPES = ("float64", "float32")
HEADER = struct.Struct("<8sHHBBBBQQQdQ")  # the 56-byte header, as documented
MAGIC = b"\x89GMX\r\n\x1a\n"
TYPE_CODES = {"full": 0, "tied": 1, "diag": 2, "spherical": 3}
ARRAYS = ("weights_", "means_", "covariances_", "precisions_cholesky_")


@pytest.fixture(scope="module")
def X():
    return make_mixture_data(n_samples=450, n_features=3, n_components=3, seed=2)


@pytest.fixture(scope="module")
def models(X):
    return {
        t: GaussianMixture(3, covariance_type=t, random_state=0).fit(X) for t in COVARIANCE_TYPES
    }


@pytest.fixture(scope="module")
def points_csv(X, tmp_path_factory):
    points = X[::7] + 0.25
    path = tmp_path_factory.mktemp("points") / "points.csv"
    np.savetxt(path, points, delimiter=",", fmt="%.17g")
    return points, path


def stored(array, dtype):
    """What a file of `dtype` holds for a float64 array, widened back to float64."""
    return np.asarray(array).astype(dtype).astype(np.float64)


def assert_bit_identical(a, b):
    a, b = np.ascontiguousarray(a, dtype=np.float64), np.ascontiguousarray(b, dtype=np.float64)
    assert a.shape == b.shape
    assert a.tobytes() == b.tobytes()


def encoded(model, dtype="float64"):
    buffer = io.BytesIO()
    model.save(buffer, dtype=dtype)
    return buffer.getvalue()


def parameters_of(data):
    """Header and parameter arrays of a version 2 file (what precedes the metadata)."""
    return data[: HEADER.size + HEADER.unpack_from(data)[-1]]


def metadata_of(data):
    start = HEADER.size + HEADER.unpack_from(data)[-1]
    (size,) = struct.unpack_from("<I", data, start)
    return data[start + 4 : start + 4 + size]


def with_fresh_crc(data):
    return data[:-4] + struct.pack("<I", zlib.crc32(data[:-4]))


# ------------------------------------------------------------------ round trips


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_python_round_trip(models, X, tmp_path, covariance_type, dtype):
    gm = models[covariance_type]
    path = tmp_path / "model.gmm"
    gm.save(path, dtype=dtype)
    back = gaussmix.load(path)
    assert back.covariance_type == covariance_type and back.n_components == 3
    assert back.n_features_in_ == 3
    for name in ARRAYS:
        assert_bit_identical(getattr(back, name), stored(getattr(gm, name), dtype))
    assert (back.n_iter_, back.converged_, back.lower_bound_) == (
        gm.n_iter_,
        gm.converged_,
        gm.lower_bound_,
    )
    if dtype == "float64":
        assert_bit_identical(back.precisions_, gm.precisions_)
        assert_bit_identical(back.score_samples(X), gm.score_samples(X))
        np.testing.assert_array_equal(back.predict(X), gm.predict(X))
    else:
        # Factors rounded to float32 move the log-density by about 1e-5 at most.
        np.testing.assert_allclose(back.score_samples(X), gm.score_samples(X), rtol=1e-4, atol=1e-4)
    # Saving what was loaded gives the same bytes: nothing is lost or re-rounded.
    assert encoded(back, dtype) == path.read_bytes()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_layout_matches_the_documentation(models, covariance_type, dtype):
    gm = models[covariance_type]
    data = encoded(gm, dtype)
    (
        magic,
        bom,
        version,
        dtype_code,
        type_code,
        converged,
        reserved,
        k,
        n,
        n_iter,
        lower_bound,
        payload,
    ) = HEADER.unpack_from(data)
    assert magic == MAGIC and bom == 0xFEFF and version == 2 and reserved == 0
    assert (
        dtype_code == {"float32": 1, "float64": 2}[dtype]
        and type_code == TYPE_CODES[covariance_type]
    )
    assert (k, n, n_iter, bool(converged), lower_bound) == (
        3,
        3,
        gm.n_iter_,
        gm.converged_,
        gm.lower_bound_,
    )
    (meta_size,) = struct.unpack_from("<I", data, HEADER.size + payload)
    assert len(data) == HEADER.size + payload + 4 + meta_size + 4
    meta = json.loads(data[HEADER.size + payload + 4 : -4])
    assert meta["kind"] == "gaussmix.GaussianMixture/1"
    assert meta["params"]["covariance_type"] == covariance_type
    assert struct.unpack("<I", data[-4:])[0] == zlib.crc32(data[:-4])
    values = np.frombuffer(
        data[HEADER.size : HEADER.size + payload], dtype="<f4" if dtype == "float32" else "<f8"
    )
    sizes = [getattr(gm, name).size for name in ARRAYS]
    parts = np.split(values, np.cumsum(sizes)[:-1])
    for name, part in zip(ARRAYS, parts):
        assert_bit_identical(part, stored(getattr(gm, name), dtype).ravel())


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_python_to_cpp(
    models, points_csv, cli_from_cmake_install, tmp_path, covariance_type, dtype
):
    gm = models[covariance_type]
    path = tmp_path / "model.gmm"
    gm.save(path, dtype=dtype)
    shown = parse_show(run_cli(cli_from_cmake_install, "show", path).stdout)
    assert shown["covariance_type"] == covariance_type
    for name in ARRAYS:
        assert_bit_identical(shown[name.rstrip("_")], stored(getattr(gm, name), dtype).ravel())
    assert float(shown["lower_bound"]) == gm.lower_bound_
    # Predictions from the same file agree bit for bit.
    points, csv = points_csv
    loaded = gaussmix.load(path)
    scores = np.array(
        run_cli(cli_from_cmake_install, "predict", path, csv, "--scores").stdout.split(),
        dtype=float,
    )
    assert_bit_identical(scores, loaded.score_samples(points))
    labels = np.array(
        run_cli(cli_from_cmake_install, "predict", path, csv).stdout.split(), dtype=np.int64
    )
    np.testing.assert_array_equal(labels, loaded.predict(points))
    proba = np.loadtxt(
        io.StringIO(run_cli(cli_from_cmake_install, "predict", path, csv, "--proba").stdout),
        delimiter=",",
    )
    assert_bit_identical(proba, loaded.predict_proba(points))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_cpp_to_python(X, points_csv, cli_from_cmake_install, tmp_path, covariance_type, dtype):
    data_csv = tmp_path / "data.csv"
    np.savetxt(data_csv, X, delimiter=",", fmt="%.17g")
    path = tmp_path / "model.gmm"
    run_cli(
        cli_from_cmake_install,
        "fit",
        data_csv,
        path,
        "--k",
        3,
        "--covariance-type",
        covariance_type,
        "--dtype",
        dtype,
        "--seed",
        1,
    )
    gm = gaussmix.load(path)
    shown = parse_show(run_cli(cli_from_cmake_install, "show", path).stdout)
    for name in ARRAYS:
        assert_bit_identical(getattr(gm, name).ravel(), shown[name.rstrip("_")])
    assert gm.n_iter_ == int(shown["n_iter"]) and gm.lower_bound_ == float(shown["lower_bound"])
    # The C++ program writes no metadata; Python adds its own, the rest is the same bytes.
    written = path.read_bytes()
    assert metadata_of(written) == b""
    assert parameters_of(encoded(gm, dtype)) == parameters_of(written)
    points, csv = points_csv
    scores = np.array(
        run_cli(cli_from_cmake_install, "predict", path, csv, "--scores").stdout.split(),
        dtype=float,
    )
    assert_bit_identical(gm.score_samples(points), scores)
    labels = np.array(
        run_cli(cli_from_cmake_install, "predict", path, csv).stdout.split(), dtype=np.int64
    )
    np.testing.assert_array_equal(gm.predict(points), labels)


def test_loaded_model_is_a_working_estimator(models, X):
    back = gaussmix.load(io.BytesIO(encoded(models["full"])))
    assert back.score(X) == models["full"].score(X)
    samples, labels = back.sample(50)
    assert samples.shape == (50, 3) and labels.shape == (50,)
    assert back.bic(X) == models["full"].bic(X)
    assert back.condition([0], [0.0]).n_features_in_ == 2


# ------------------------------------------------------------------ rejections


@pytest.mark.parametrize("covariance_type, dtype", [("diag", "float32"), ("full", "float64")])
def test_every_truncation_is_rejected(models, covariance_type, dtype):
    data = encoded(models[covariance_type], dtype)
    for length in range(len(data)):
        with pytest.raises(ValueError, match="truncated"):
            gaussmix.load(io.BytesIO(data[:length]))


def test_every_flipped_byte_is_rejected(models):
    data = encoded(models["tied"], "float32")
    for position in range(len(data)):
        for mask in (0x01, 0x80):
            damaged = bytearray(data)
            damaged[position] ^= mask
            with pytest.raises(ValueError, match="invalid gaussmix model file"):
                gaussmix.load(io.BytesIO(bytes(damaged)))


def test_corruption_is_reported_as_a_checksum_mismatch(models):
    damaged = bytearray(encoded(models["full"]))
    damaged[HEADER.size + 20] ^= 0x04
    with pytest.raises(ValueError, match="checksum mismatch"):
        gaussmix.load(io.BytesIO(bytes(damaged)))


def test_wrong_version_is_rejected(models):
    data = bytearray(encoded(models["spherical"]))
    for version in (0, 3):
        struct.pack_into("<H", data, 10, version)
        with pytest.raises(ValueError, match=f"format version {version} is not supported"):
            gaussmix.load(io.BytesIO(with_fresh_crc(bytes(data))))


def as_version_1(data):
    """The same model as a format version 1 file: no metadata section."""
    payload = HEADER.unpack_from(data)[-1]
    v1 = bytearray(data[: HEADER.size + payload])
    struct.pack_into("<H", v1, 10, 1)
    return bytes(v1) + struct.pack("<I", zlib.crc32(bytes(v1)))


def test_version_1_files_still_load(models, X):
    gm = models["full"]
    back = gaussmix.load(io.BytesIO(as_version_1(encoded(gm))))
    assert_bit_identical(back.means_, gm.means_)
    assert_bit_identical(back.score_samples(X), gm.score_samples(X))
    # No hyper-parameters in a version 1 file: the defaults.
    assert back.get_params()["tol"] == 1e-3


def test_hyper_parameters_and_feature_names_survive_the_file(tmp_path):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(make_mixture_data(n_samples=300, seed=5), columns=["x", "y", "z"])
    prior = gaussmix.GaussianPrior(mean_precision=0.05, scale=np.eye(3))
    gm = gaussmix.GaussianMixture(
        3,
        covariance_type="tied",
        tol=1e-5,
        reg_covar=1e-5,
        max_iter=50,
        n_init=2,
        init_params="k-means++",
        random_state=7,
        n_threads=1,
        prior=prior,
        means_init=frame.to_numpy()[:3],
    ).fit(frame)
    path = tmp_path / "m.gmm"
    gm.save(path)
    back = gaussmix.load(path)
    assert list(back.feature_names_in_) == ["x", "y", "z"]
    original, loaded = gm.get_params(), back.get_params()
    assert set(original) == set(loaded)
    for name, value in original.items():
        if name == "prior":
            for field in ("weight_concentration", "mean_precision", "degrees_of_freedom"):
                assert getattr(loaded[name], field) == getattr(value, field)
            np.testing.assert_array_equal(loaded[name].scale, value.scale)
        elif isinstance(value, np.ndarray):
            np.testing.assert_array_equal(loaded[name], value)
        else:
            assert loaded[name] == value, name
    np.testing.assert_array_equal(back.predict(frame), gm.predict(frame))
    assert not list(tmp_path.glob("*.partial"))


def test_a_failed_save_leaves_no_file(models, tmp_path):
    target = tmp_path / "missing-folder" / "m.gmm"
    with pytest.raises(OSError):
        models["full"].save(target)
    assert not target.exists() and not list(tmp_path.rglob("*.partial"))
    existing = tmp_path / "kept.gmm"
    existing.write_bytes(b"old contents")
    with pytest.raises(ValueError):
        models["full"].save(existing, dtype="float16")
    assert existing.read_bytes() == b"old contents"


def test_big_endian_file_is_rejected(models):
    """The same model written entirely in big-endian byte order, checksum included."""
    gm = models["diag"]
    little = encoded(gm)
    fields = HEADER.unpack_from(little)
    body = HEADER.size
    payload = fields[-1]
    values = np.frombuffer(little[body : body + payload], dtype="<f8").astype(">f8").tobytes()
    metadata = metadata_of(little)
    big = (
        struct.pack(">8sHHBBBBQQQdQ", *fields)
        + values
        + struct.pack(">I", len(metadata))
        + metadata
    )
    big += struct.pack(">I", zlib.crc32(big))
    with pytest.raises(ValueError, match="big-endian"):
        gaussmix.load(io.BytesIO(big))


@pytest.mark.parametrize(
    "data",
    [b"", b"\x89GM", b"GMX1", b"\x93NUMPY\x01\x00", b"weights 0.5 0.5\n" * 10],
    ids=["empty", "magic-prefix", "other-magic", "npy", "text"],
)
def test_wrong_magic_or_too_short_is_rejected(data):
    match = "truncated" if MAGIC.startswith(data) else "magic"
    with pytest.raises(ValueError, match=match):
        gaussmix.load(io.BytesIO(data))


def test_trailing_bytes_are_rejected(models):
    with pytest.raises(ValueError, match="3 unexpected bytes after the model"):
        gaussmix.load(io.BytesIO(encoded(models["full"]) + b"abc"))


def test_bad_contents_with_a_valid_checksum_are_rejected(models):
    data = bytearray(encoded(models["diag"]))
    struct.pack_into("<d", data, HEADER.size, -0.5)  # first weight
    with pytest.raises(ValueError, match="weights must be non-negative"):
        gaussmix.load(io.BytesIO(with_fresh_crc(bytes(data))))


def test_errors_name_the_file(tmp_path, models):
    path = tmp_path / "cut.gmm"
    path.write_bytes(encoded(models["full"])[:100])
    with pytest.raises(ValueError, match="cut.gmm"):
        gaussmix.load(path)


def test_nonexistent_path(tmp_path):
    with pytest.raises(FileNotFoundError):
        gaussmix.load(tmp_path / "missing.gmm")


def test_text_mode_file_object_is_a_type_error(tmp_path, models):
    path = tmp_path / "model.gmm"
    models["full"].save(path)
    with open(path, encoding="latin-1") as handle, pytest.raises(TypeError, match="binary mode"):
        gaussmix.load(handle)


def test_save_checks_its_arguments(models, tmp_path):
    with pytest.raises(NotFittedError):
        GaussianMixture().save(tmp_path / "m.gmm")
    with pytest.raises(ValueError, match="float32 or float64"):
        models["full"].save(tmp_path / "m.gmm", dtype="float16")
    huge = GaussianMixture(1, covariance_type="diag").fit(np.array([[1e39], [1.1e39], [0.9e39]]))
    with pytest.raises(ValueError, match="too large"):
        huge.save(tmp_path / "m.gmm", dtype="float32")
    huge.save(tmp_path / "m.gmm", dtype=np.float64)
    assert gaussmix.load(tmp_path / "m.gmm").means_[0, 0] == huge.means_[0, 0]
    assert not (tmp_path / "missing").exists()
