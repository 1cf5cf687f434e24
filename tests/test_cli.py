"""The ``gaussmix`` command, run as the installed console script in a subprocess (or as
``python -m gaussmix``, the same entry point, when the package is imported from the sources)."""

import os
import resource
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import gaussmix

from conftest import make_mixture_data


def _command():
    script = shutil.which("gaussmix", path=os.path.dirname(sys.executable))
    if script is not None:
        return [script]
    return [sys.executable, "-m", "gaussmix"]


def _env():
    env = dict(os.environ)
    package_root = os.path.dirname(os.path.dirname(gaussmix.__file__))
    env["PYTHONPATH"] = package_root + os.pathsep + env.get("PYTHONPATH", "")
    return env


def run(*args, stdin=None, cwd=None, check=True):
    proc = subprocess.run(
        [*_command(), *map(str, args)],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        env=_env(),
        timeout=300,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"exit {proc.returncode}: {proc.stderr}")
    return proc


def _csv(path, X, header=("a", "b", "c"), delimiter=","):
    np.savetxt(
        path, X, delimiter=delimiter, header=delimiter.join(header), comments="", fmt="%.17g"
    )


def _read_csv(text):
    lines = text.strip().splitlines()
    return lines[0].split(","), np.array(
        [[float(v) for v in line.split(",")] for line in lines[1:]]
    )


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli")
    X = make_mixture_data(n_samples=600, n_features=3, n_components=3, seed=0)
    _csv(tmp / "data.csv", X)
    run("fit", tmp / "data.csv", "-k", 3, "--seed", 0, "-o", tmp / "model.gmm", "--quiet")
    return tmp, X, gaussmix.load(tmp / "model.gmm")


def test_fit_writes_the_model_file_python_reads(fitted):
    tmp, X, gm = fitted
    reference = gaussmix.GaussianMixture(3, random_state=0).fit(X)
    np.testing.assert_allclose(gm.means_, reference.means_, rtol=1e-12)
    assert gm.n_components == 3 and gm.covariance_type == "full"


def test_predict_score_impute_match_python(fitted):
    tmp, X, gm = fitted
    header, labels = _read_csv(run("predict", tmp / "model.gmm", tmp / "data.csv").stdout)
    assert header == ["label"]
    np.testing.assert_array_equal(labels[:, 0], gm.predict(X))
    header, proba = _read_csv(run("predict", tmp / "model.gmm", tmp / "data.csv", "--proba").stdout)
    assert header == ["p0", "p1", "p2"]
    np.testing.assert_allclose(proba, gm.predict_proba(X), rtol=1e-12, atol=1e-300)
    header, scores = _read_csv(run("score", tmp / "model.gmm", tmp / "data.csv").stdout)
    assert header == ["mean_log_likelihood", "bic", "aic", "n_samples"]
    np.testing.assert_allclose(scores[0], [gm.score(X), gm.bic(X), gm.aic(X), len(X)], rtol=1e-12)
    _, per_row = _read_csv(run("score", tmp / "model.gmm", tmp / "data.csv", "--per-sample").stdout)
    np.testing.assert_allclose(per_row[:, 0], gm.score_samples(X), rtol=1e-12)
    holed = X.copy()
    holed[::7, 1] = np.nan
    _csv(tmp / "holed.csv", holed)
    run("impute", tmp / "model.gmm", tmp / "holed.csv", "-o", tmp / "filled.csv")
    header, filled = _read_csv((tmp / "filled.csv").read_text())
    assert header == ["a", "b", "c"]
    np.testing.assert_allclose(filled, gm.impute(holed), rtol=1e-12)


def test_inputs_npy_tsv_stdin_and_columns(fitted):
    tmp, X, gm = fitted
    np.save(tmp / "data.npy", X)
    _csv(tmp / "data.tsv", X, delimiter="\t")
    expected = gm.predict(X)
    for source in (tmp / "data.npy", tmp / "data.tsv"):
        _, labels = _read_csv(run("predict", tmp / "model.gmm", source).stdout)
        np.testing.assert_array_equal(labels[:, 0], expected)
    text = (tmp / "data.csv").read_text()
    _, labels = _read_csv(run("predict", tmp / "model.gmm", "-", stdin=text).stdout)
    np.testing.assert_array_equal(labels[:, 0], expected)
    # A wider file, the model's columns picked by name and by index.
    wide = np.column_stack([X[:, 0], np.arange(len(X)), X[:, 1], X[:, 2]])
    _csv(tmp / "wide.csv", wide, header=("a", "id", "b", "c"))
    for columns in ("a,b,c", "0,2,3"):
        _, labels = _read_csv(
            run("predict", tmp / "model.gmm", tmp / "wide.csv", "--columns", columns).stdout
        )
        np.testing.assert_array_equal(labels[:, 0], expected)


def test_sample_show_select_plot(fitted):
    tmp, X, gm = fitted
    header, rows = _read_csv(run("sample", tmp / "model.gmm", "-n", 50, "--seed", 3).stdout)
    assert header == ["x0", "x1", "x2", "component"] and rows.shape == (50, 4)
    assert set(rows[:, 3]) <= {0.0, 1.0, 2.0}
    shown = run("show", tmp / "model.gmm").stdout
    assert "3 components" in shown and shown.count("component ") == 3
    out = run(
        "select",
        tmp / "data.csv",
        "-k",
        "1-4",
        "--covariance-types",
        "full,diag",
        "--seed",
        0,
        "-o",
        tmp / "best.gmm",
        "--table",
        tmp / "table.csv",
        "--quiet",
    ).stdout
    marked = [line for line in out.splitlines() if line.startswith("*")]
    assert len(marked) == 1
    best = gaussmix.load(tmp / "best.gmm")
    assert f"{best.n_components}" in marked[0] and best.covariance_type in marked[0]
    assert (tmp / "table.csv").read_text().count("\n") == 1 + 8
    for extension, magic in ((".png", b"\x89PNG"), (".svg", b"<?xml"), (".pdf", b"%PDF")):
        target = tmp / f"figure{extension}"
        run("plot", tmp / "model.gmm", tmp / "data.csv", "-o", target)
        assert target.read_bytes().startswith(magic)


def test_fit_and_select_with_the_default_prior(fitted):
    tmp, X, _ = fitted
    run(
        *("fit", tmp / "data.csv", "-k", 3, "--covariance-type", "VEV", "--prior"),
        *("--seed", 0, "-o", tmp / "map.gmm"),
    )
    map_fit = gaussmix.load(tmp / "map.gmm")
    reference = gaussmix.GaussianMixture(3, covariance_type="VEV", prior="default", random_state=0)
    reference.fit(X)
    np.testing.assert_allclose(map_fit.means_, reference.means_, rtol=1e-12)
    np.testing.assert_allclose(map_fit.covariances_, reference.covariances_, rtol=1e-12)
    assert map_fit.get_params()["prior"] == "default"
    # select: the models without a prior are rows with their error, the others compete.
    out = run(
        *("select", tmp / "data.csv", "-k", "1-2", "--covariance-types", "EEV,EVE", "--prior"),
        *("--seed", 0, "--table", tmp / "prior_table.csv", "--quiet"),
    ).stdout
    marked = [line for line in out.splitlines() if line.startswith("*")]
    assert len(marked) == 1 and "EEV" in marked[0]
    table = (tmp / "prior_table.csv").read_text()
    assert table.count("priors are not available for covariance_type 'EVE'") == 2


@pytest.mark.parametrize(
    "args, message",
    [
        (("predict", "{model}", "{tmp}/missing.csv"), "no such file"),
        (("predict", "{model}", "{tmp}/text.csv"), "line 3, column 'b': 'oops' is not a number"),
        (("predict", "{model}", "{tmp}/narrow.csv"), "X has 2 features"),
        (("predict", "{model}", "{tmp}/data.csv", "--bogus"), "unrecognized arguments: --bogus"),
        (("fit", "{tmp}/data.csv", "-k", "0", "-o", "{tmp}/new.gmm"), "n_components"),
        (("plot", "{model}", "-o", "{tmp}/figure.gif"), "extension"),
        (("show", "{tmp}/data.csv"), "model"),
        (
            ("fit", "{tmp}/data.csv", "-k", "2", "--covariance-type", "EVE", "--prior")
            + ("-o", "{tmp}/new.gmm"),
            "priors are not available for covariance_type 'EVE'",
        ),
    ],
)
def test_bad_input_is_one_line_and_status_2(fitted, args, message):
    tmp, X, _ = fitted
    _csv(tmp / "narrow.csv", X[:, :2], header=("a", "b"))
    (tmp / "text.csv").write_text("a,b,c\n1,2,3\n4,oops,6\n")
    output = tmp / "out.csv"
    if output.exists():
        output.unlink()
    filled = [a.format(tmp=tmp, model=tmp / "model.gmm") for a in args]
    proc = (
        run(*filled, "-o", output, check=False)
        if args[0] == "predict"
        else run(*filled, check=False)
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr
    assert not output.exists() and not (tmp / "new.gmm").exists()
    assert not [p for p in os.listdir(tmp) if p.startswith(".gaussmix-")]


def test_a_failed_command_leaves_an_existing_output_untouched(fitted):
    tmp, X, _ = fitted
    target = tmp / "keep.csv"
    target.write_text("previous\n")
    (tmp / "text.csv").write_text("a,b,c\n1,2,3\n4,oops,6\n")
    proc = run("predict", tmp / "model.gmm", tmp / "text.csv", "-o", target, check=False)
    assert proc.returncode == 2
    assert target.read_text() == "previous\n"


@pytest.mark.slow
def test_ctrl_c_stops_a_fit_cleanly(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2_000_000, 8))
    np.save(tmp_path / "big.npy", X)
    proc = subprocess.Popen(
        [
            *_command(),
            "fit",
            tmp_path / "big.npy",
            "-k",
            "16",
            "--tol",
            "0",
            "--max-iter",
            "10000",
            "-o",
            tmp_path / "model.gmm",
            "--quiet",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    # Interrupt once the fit itself is running: after start-up, imports included, and loading,
    # whatever the machine's speed. Start-up is measured on `--version` (the same imports): under
    # the sanitizers it alone takes seconds of CPU, and a signal during the imports would come
    # before the command's handler. The fit would run for minutes.
    import psutil

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([*_command(), "--version"], capture_output=True, check=True, env=_env())
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    startup = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    watched = psutil.Process(proc.pid)
    deadline = time.monotonic() + 300
    while sum(watched.cpu_times()[:2]) < startup + 3.0 and proc.poll() is None:
        assert time.monotonic() < deadline, "the command never got going"
        time.sleep(0.05)
    assert proc.poll() is None, proc.communicate()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert err.strip().splitlines() == ["gaussmix: interrupted"]
    assert not (tmp_path / "model.gmm").exists()
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".gaussmix-")]


def test_parquet_input_or_a_clear_error_without_pyarrow(fitted):
    tmp, X, gm = fitted
    target = tmp / "data.parquet"
    try:
        import pyarrow
        import pyarrow.parquet as pq
    except ImportError:
        target.write_bytes(b"PAR1")
        proc = run("predict", tmp / "model.gmm", target, check=False)
        assert proc.returncode == 2 and "needs pyarrow" in proc.stderr
        return
    pq.write_table(pyarrow.table({"a": X[:, 0], "b": X[:, 1], "c": X[:, 2]}), target)
    _, labels = _read_csv(run("predict", tmp / "model.gmm", target).stdout)
    np.testing.assert_array_equal(labels[:, 0], gm.predict(X))


def test_progress_on_a_terminal_and_quiet_silences_it(fitted, tmp_path):
    """On a terminal (a pseudo-terminal here) fit shows tqdm's bar on standard error."""
    import fcntl
    import pty
    import struct
    import termios

    _, X, _ = fitted
    np.save(tmp_path / "data.npy", X)

    def stderr_of(*extra):
        leader, follower = pty.openpty()
        # A new pseudo-terminal is 0 columns wide; a real one has a size.
        fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
        proc = subprocess.Popen(
            [
                *_command(),
                "fit",
                tmp_path / "data.npy",
                "-k",
                "3",
                "--seed",
                "0",
                "--tol",
                "0",
                "--max-iter",
                "30",
                "-o",
                tmp_path / "m.gmm",
                *extra,
            ],
            stdout=subprocess.DEVNULL,
            stderr=follower,
            env=_env(),
        )
        os.close(follower)
        chunks = []
        while True:
            try:
                data = os.read(leader, 4096)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
        proc.wait(timeout=120)
        os.close(leader)
        assert proc.returncode == 0
        return b"".join(chunks).decode(errors="replace")

    shown = stderr_of()
    assert "iter" in shown and "lower_bound=" in shown and "start 1/1" in shown
    assert "fitted 3 components" in shown
    assert stderr_of("--quiet").strip() == ""
