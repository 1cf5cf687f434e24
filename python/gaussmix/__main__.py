"""The ``gaussmix`` command (also ``python -m gaussmix``): fit, predict, score, sample, select,
impute, show and plot Gaussian mixtures from CSV/TSV, .npy or Parquet files, with the same model
files as the Python and C++ APIs.

Bad input prints one line and exits with status 2; an interrupted command (Ctrl-C) exits with
status 130. Neither leaves a half-written output file.
"""

from __future__ import annotations

import argparse
import csv
import sys
import threading
import time
import warnings

import numpy as np

from ._cli_io import CliError, atomic_path, read_data, write_table
from ._layout import COVARIANCE_TYPES, MCLUST_MODELS, SKLEARN_TYPES

INIT_PARAMS = ("kmeans", "k-means++", "random", "random_from_data", "hc")
PLOT_FORMATS = (".png", ".svg", ".pdf")
PRIOR_HELP = (
    "MAP estimation under the default conjugate prior (gaussmix.default_prior); not for VEE, "
    "EVE, VVE and EVV, which have none"
)


def make_blobs(n_samples, n_features, n_components, seed):
    """Well-separated Gaussian clusters with random orientations (a built-in demo dataset)."""
    rng = np.random.RandomState(seed)
    centers = rng.uniform(-10, 10, size=(n_components, n_features))
    counts = rng.multinomial(n_samples, np.full(n_components, 1.0 / n_components))
    parts = []
    for c, count in enumerate(counts):
        A = rng.normal(size=(n_features, n_features)) * 0.6
        parts.append(centers[c] + rng.normal(size=(count, n_features)) @ A)
    return np.vstack(parts), np.repeat(np.arange(n_components), counts)


# ------------------------------------------------------------------ progress


class _Progress:
    """Iterations, lower bound, restarts and elapsed time on standard error (tqdm), only when
    standard error is a terminal and --quiet was not given."""

    def __init__(self, enabled, total=None, unit="it", desc=""):
        self.bar = None
        if enabled and sys.stderr.isatty():
            try:
                from tqdm import tqdm
            except ImportError:  # pragma: no cover - tqdm is a dependency
                return
            # Redrawn at every update: an EM iteration is long next to a redraw.
            self.bar = tqdm(
                total=total, unit=unit, desc=desc, file=sys.stderr, leave=False, mininterval=0
            )

    def update(self, n=1, **postfix):
        if self.bar is not None:
            self.bar.update(n)
            if postfix:
                self.bar.set_postfix(postfix)

    def set_description(self, text):
        if self.bar is not None:
            self.bar.set_description(text)

    def close(self):
        if self.bar is not None:
            self.bar.close()


def _estimator(args, **params):
    """A GaussianMixture whose EM reports to a progress bar instead of printing."""
    from gaussmix import GaussianMixture

    progress = _Progress(not args.quiet, unit="iter", desc="EM")

    class ReportingMixture(GaussianMixture):
        def _verbose_init_start(self, n_init):
            progress.set_description(f"start {n_init + 1}/{self.n_init}")

        def _verbose_iteration(self, n_iter, lower_bound, change):
            progress.update(lower_bound=f"{lower_bound:.5g}")

        def _verbose_init_end(self, lower_bound, converged):
            pass

    gm = ReportingMixture(verbose=1 if progress.bar is not None else 0, **params)
    return gm, progress


def _plain(gm):
    """The fitted model as a plain GaussianMixture (what is saved and shown)."""
    from gaussmix import GaussianMixture

    out = GaussianMixture(**{k: v for k, v in gm.get_params().items() if k != "verbose"})
    out.__dict__.update({k: v for k, v in gm.__dict__.items() if k.endswith("_")})
    return out


def _save(gm, path):
    with atomic_path(path) as tmp:
        gm.save(tmp)


def _load(path):
    import gaussmix

    try:
        return gaussmix.load(path)
    except FileNotFoundError:
        raise CliError(f"{path}: no such file.") from None


def _threads(args):
    return None if args.threads is None else args.threads


# ------------------------------------------------------------------ commands


def cmd_fit(args):
    X, _ = read_data(args.data, args.columns)
    gm, progress = _estimator(
        args,
        n_components=args.components,
        covariance_type=args.covariance_type,
        n_init=args.n_init,
        init_params=args.init_params,
        max_iter=args.max_iter,
        tol=args.tol,
        reg_covar=args.reg_covar,
        random_state=args.seed,
        n_threads=_threads(args),
        missing=args.missing,
        prior="default" if args.prior else None,
    )
    start = time.perf_counter()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            gm.fit(X)
    finally:
        progress.close()
    model = _plain(gm)
    _save(model, args.output)
    if not args.quiet:
        for w in caught:
            print(f"gaussmix: warning: {w.message}", file=sys.stderr)
        print(
            f"fitted {model.n_components} components ({model.covariance_type}) to "
            f"{X.shape[0]} x {X.shape[1]} in {time.perf_counter() - start:.2f} s: "
            f"{model.n_iter_} iterations, converged={model.converged_}, "
            f"lower bound {model.lower_bound_:.6g}, BIC {model.bic(X):.6g}; wrote {args.output}",
            file=sys.stderr,
        )
    return 0


def _with_threads(gm, args):
    if args.threads is not None:
        gm.n_threads = args.threads
    return gm


def cmd_predict(args):
    gm = _with_threads(_load(args.model), args)
    X, _ = read_data(args.data, args.columns)
    if args.proba:
        out = gm.predict_proba(X)
        write_table(args.output, out, [f"p{c}" for c in range(gm.n_components)])
    else:
        write_table(args.output, gm.predict(X), ["label"])
    return 0


def cmd_score(args):
    gm = _with_threads(_load(args.model), args)
    X, _ = read_data(args.data, args.columns)
    if args.per_sample:
        write_table(args.output, gm.score_samples(X), ["log_density"])
        return 0
    rows = [[gm.score(X), gm.bic(X), gm.aic(X), X.shape[0]]]
    write_table(args.output, np.array(rows), ["mean_log_likelihood", "bic", "aic", "n_samples"])
    return 0


def cmd_sample(args):
    gm = _load(args.model)
    gm.random_state = args.seed
    X, y = gm.sample(args.n)
    names = list(getattr(gm, "feature_names_in_", [f"x{j}" for j in range(X.shape[1])]))
    write_table(args.output, np.column_stack([X, y]), [*map(str, names), "component"])
    return 0


def _parse_range(text):
    """'1-9', '3' or '2,4,8' as a list of ints."""
    out = []
    for part in text.split(","):
        part = part.strip()
        if "-" in part[1:]:
            lo, hi = part.split("-", 1)
            if not (lo.isdigit() and hi.isdigit()) or int(lo) > int(hi):
                raise CliError(f"-k: {part!r} is not a range such as 1-9.")
            out.extend(range(int(lo), int(hi) + 1))
        elif part.isdigit():
            out.append(int(part))
        else:
            raise CliError(f"-k: {part!r} is not a number or a range such as 1-9.")
    return out


def cmd_select(args):
    import gaussmix

    X, _ = read_data(args.data, args.columns)
    ks = _parse_range(args.components)
    types = (
        "all"
        if args.covariance_types == "all"
        else [t.strip() for t in args.covariance_types.split(",")]
    )
    n_fits = len(ks) * (len(MCLUST_MODELS) if types == "all" else len(types))
    progress = _Progress(not args.quiet, desc=f"select: {n_fits} fits", unit="s")
    done = threading.Event()
    result = {}

    def work():
        try:
            result["value"] = gaussmix.select_model(
                X,
                n_components=ks,
                covariance_types=types,
                criterion=args.criterion,
                n_init=args.n_init,
                random_state=args.seed,
                missing=args.missing,
                prior="default" if args.prior else None,
            )
        except BaseException as exc:  # handed to the main thread
            result["error"] = exc
        finally:
            done.set()

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    try:
        while not done.wait(0.25):
            progress.update(0)
            if progress.bar is not None:
                progress.bar.refresh()
    finally:
        progress.close()
    if "error" in result:
        raise result["error"]
    res = result["value"]
    print(res.format_table())
    if args.table:
        rows = res.to_dicts()
        with atomic_path(args.table) as tmp:
            with open(tmp, "w", encoding="utf-8", newline="") as f:
                writer = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
                writer.writeheader()
                writer.writerows(rows)
    if args.output:
        _save(res.best_estimator_, args.output)
    return 0


def cmd_impute(args):
    gm = _with_threads(_load(args.model), args)
    X, names = read_data(args.data, args.columns)
    filled = gm.impute(X, method=args.method, random_state=args.seed)
    write_table(args.output, filled, names)
    return 0


def cmd_show(args):
    gm = _load(args.model)
    np.set_printoptions(precision=4, suppress=True)
    print(
        f"{gm.n_components} components, covariance_type={gm.covariance_type!r}, "
        f"{gm.means_.shape[1]} features"
    )
    print(
        f"fit: {gm.n_iter_} iterations, converged={gm.converged_}, lower bound {gm.lower_bound_:.6g}"
    )
    for c in np.argsort(-gm.weights_):
        print(f"component {c}: weight {gm.weights_[c]:.4f}")
        print(f"  mean {gm.means_[c]}")
    return 0


def cmd_plot(args):
    import os

    extension = os.path.splitext(args.output)[1].lower()
    if extension not in PLOT_FORMATS:
        raise CliError(
            f"-o {args.output}: the format comes from the extension, one of {', '.join(PLOT_FORMATS)}."
        )
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from . import plot

    gm = _load(args.model)
    X = None
    if args.data is not None:
        X, _ = read_data(args.data, args.columns)
        if X.shape[1] != gm.means_.shape[1]:
            raise CliError(
                f"{args.data}: {X.shape[1]} columns, but the model has {gm.means_.shape[1]} features."
            )
    dims = [int(d) for d in args.dims.split(",")] if args.dims else None
    n_features = gm.means_.shape[1]
    if n_features < 2:
        raise CliError("plot needs a model of at least 2 features.")
    if dims is None and n_features > 2:
        fig = plot.plot_mixture_grid(gm, X)
    elif dims is not None and len(dims) > 2:
        fig = plot.plot_mixture_grid(gm, X, dims=dims)
    else:
        fig, ax = plt.subplots(figsize=(6, 5))
        plot.plot_mixture(gm, X, dims=dims or (0, 1), ax=ax)
    with atomic_path(args.output) as tmp:
        fig.savefig(tmp, format=extension[1:], dpi=args.dpi)
    plt.close(fig)
    return 0


def cmd_demo(args):
    from gaussmix import GaussianMixture

    X, truth = make_blobs(args.samples, args.features, args.components, args.seed)
    gm = GaussianMixture(
        n_components=args.components,
        covariance_type=args.covariance_type,
        n_init=args.n_init,
        random_state=args.seed,
    )
    start = time.perf_counter()
    gm.fit(X)
    elapsed = time.perf_counter() - start
    np.set_printoptions(precision=3, suppress=True)
    print(
        f"gaussmix demo: {X.shape[0]} samples, {X.shape[1]} features, "
        f"{args.components} components ({args.covariance_type} covariance)"
    )
    print(f"fit: {elapsed * 1000:.1f} ms, {gm.n_iter_} EM iterations, converged={gm.converged_}")
    print(f"lower bound (mean log-likelihood per sample): {gm.lower_bound_:.4f}")
    print(f"BIC: {gm.bic(X):.1f}")
    order = np.argsort(-gm.weights_)
    for c in order:
        print(f"  component {c}: weight {gm.weights_[c]:.3f}, mean {gm.means_[c]}")
    labels = gm.predict(X)
    agree = sum(np.bincount(labels[truth == t]).max() for t in np.unique(truth)) / len(truth)
    print(f"agreement with the generating clusters: {agree:.3f}")
    return 0


# ------------------------------------------------------------------ parser


class _Parser(argparse.ArgumentParser):
    """Usage errors as one line (and exit status 2), like every other bad input."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _version():
    from gaussmix import __version__

    return __version__


def build_parser():
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "-q", "--quiet", action="store_true", help="no progress or summary on stderr"
    )
    common.add_argument(
        "--threads", type=int, default=None, help="threads of the core (default: all cores)"
    )
    data = argparse.ArgumentParser(add_help=False)
    data.add_argument("--columns", help="columns to use, by name or 0-based index, comma-separated")
    out = argparse.ArgumentParser(add_help=False)
    out.add_argument("-o", "--output", help="write here (CSV) instead of standard output")

    parser = _Parser(prog="gaussmix", description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", action="version", version=f"gaussmix {_version()}")
    parser.add_argument(
        "--cmake-dir",
        action="store_true",
        help="print the folder to put on CMAKE_PREFIX_PATH for find_package(gaussmix)",
    )
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    f = sub.add_parser("fit", parents=[common, data], help="fit a mixture to DATA and save it")
    f.add_argument("data", help="CSV/TSV, .npy or Parquet file, or - for standard input")
    f.add_argument("-k", "--components", type=int, required=True, help="number of components")
    f.add_argument("--covariance-type", default="full", choices=list(COVARIANCE_TYPES))
    f.add_argument("--n-init", type=int, default=1)
    f.add_argument("--init-params", default="kmeans", choices=list(INIT_PARAMS))
    f.add_argument("--max-iter", type=int, default=100)
    f.add_argument("--tol", type=float, default=1e-3)
    f.add_argument("--reg-covar", type=float, default=1e-6)
    f.add_argument("--missing", default="error", choices=["error", "marginalize"])
    f.add_argument(
        "--prior",
        action="store_true",
        help=PRIOR_HELP,
    )
    f.add_argument("--seed", type=int, default=None)
    f.add_argument("-o", "--output", required=True, help="the model file to write")
    f.set_defaults(run=cmd_fit)

    p = sub.add_parser("predict", parents=[common, data, out], help="labels (or --proba) of DATA")
    p.add_argument("model")
    p.add_argument("data")
    p.add_argument("--proba", action="store_true", help="the posterior of every component")
    p.set_defaults(run=cmd_predict)

    s = sub.add_parser(
        "score", parents=[common, data, out], help="log-likelihood, BIC, AIC of DATA"
    )
    s.add_argument("model")
    s.add_argument("data")
    s.add_argument("--per-sample", action="store_true", help="the log-density of every row")
    s.set_defaults(run=cmd_score)

    g = sub.add_parser("sample", parents=[common, out], help="draw rows from a model")
    g.add_argument("model")
    g.add_argument("-n", type=int, default=1000, help="rows to draw")
    g.add_argument("--seed", type=int, default=None)
    g.set_defaults(run=cmd_sample)

    m = sub.add_parser(
        "select", parents=[common, data], help="model selection over k and covariance types"
    )
    m.add_argument("data")
    m.add_argument("-k", "--components", default="1-9", help="e.g. 1-9 or 2,4,8")
    m.add_argument(
        "--covariance-types", default=",".join(SKLEARN_TYPES), help="comma-separated, or all"
    )
    m.add_argument("--criterion", default="bic", choices=["bic", "aic", "icl"])
    m.add_argument("--n-init", type=int, default=1)
    m.add_argument("--missing", default="error", choices=["error", "marginalize"])
    m.add_argument(
        "--prior",
        action="store_true",
        help=PRIOR_HELP,
    )
    m.add_argument("--seed", type=int, default=None)
    m.add_argument("-o", "--output", help="write the best model here")
    m.add_argument("--table", help="write the table here (CSV)")
    m.set_defaults(run=cmd_select)

    i = sub.add_parser("impute", parents=[common, data, out], help="fill the NaN of DATA")
    i.add_argument("model")
    i.add_argument("data")
    i.add_argument("--method", default="mean", choices=["mean", "sample"])
    i.add_argument("--seed", type=int, default=None)
    i.set_defaults(run=cmd_impute)

    w = sub.add_parser("show", parents=[common], help="print a model")
    w.add_argument("model")
    w.set_defaults(run=cmd_show)

    pl = sub.add_parser(
        "plot", parents=[common, data], help="draw a model (over DATA) to a PNG/SVG/PDF"
    )
    pl.add_argument("model")
    pl.add_argument("data", nargs="?")
    pl.add_argument("-o", "--output", required=True, help="figure file: .png, .svg or .pdf")
    pl.add_argument("--dims", help="features to draw, e.g. 0,1 (default: all, as a grid)")
    pl.add_argument("--dpi", type=int, default=120)
    pl.set_defaults(run=cmd_plot)

    d = sub.add_parser("demo", help="fit a generated dataset and print the model")
    d.add_argument("--samples", type=int, default=100_000)
    d.add_argument("--features", type=int, default=4)
    d.add_argument("--components", type=int, default=5)
    d.add_argument("--covariance-type", default="full", choices=list(COVARIANCE_TYPES))
    d.add_argument("--n-init", type=int, default=1)
    d.add_argument("--seed", type=int, default=0)
    d.set_defaults(run=cmd_demo)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.cmake_dir:
        from gaussmix import get_cmake_dir

        try:
            print(get_cmake_dir())
        except FileNotFoundError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        return 0
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return args.run(args)
    except KeyboardInterrupt:
        print("gaussmix: interrupted", file=sys.stderr)
        return 130
    except (CliError, ValueError, TypeError, OSError, ImportError) as exc:
        message = " ".join(str(exc).split())
        print(f"gaussmix {args.command}: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
