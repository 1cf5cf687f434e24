"""Command line: ``python -m gaussmix demo`` fits a generated dataset and prints the model;
``python -m gaussmix --cmake-dir`` prints the folder of the C++ library's CMake package."""

import argparse
import sys
import time

import numpy as np

from ._layout import COVARIANCE_TYPES


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


def demo(args):
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


def _version():
    from gaussmix import __version__

    return __version__


def main(argv=None):
    parser = argparse.ArgumentParser(prog="gaussmix", description=__doc__)
    parser.add_argument("--version", action="version", version=f"gaussmix {_version()}")
    parser.add_argument(
        "--cmake-dir",
        action="store_true",
        help="print the folder to put on CMAKE_PREFIX_PATH for find_package(gaussmix)",
    )
    sub = parser.add_subparsers(dest="command")
    d = sub.add_parser("demo", help="fit a generated dataset and print the model")
    d.add_argument("--samples", type=int, default=100_000)
    d.add_argument("--features", type=int, default=4)
    d.add_argument("--components", type=int, default=5)
    d.add_argument("--covariance-type", default="full", choices=list(COVARIANCE_TYPES))
    d.add_argument("--n-init", type=int, default=1)
    d.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.cmake_dir:
        from gaussmix import get_cmake_dir

        try:
            print(get_cmake_dir())
        except FileNotFoundError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        return 0
    if args.command == "demo":
        return demo(args)
    parser.print_help()
    return 0


if __name__ == "__main__":
    sys.exit(main())
