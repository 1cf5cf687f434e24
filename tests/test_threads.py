"""Long calls release the GIL, concurrent fits equal sequential ones, and Ctrl-C stops a long
fit within about a second (during k-means++ seeding and during EM)."""

import os
import signal
import threading
import time
import warnings

import numpy as np
import pytest

from gaussmix import GaussianMixture, _core
from gaussmix._sklearn_compat import ConvergenceWarning

from conftest import make_mixture_data

# Slow: see conftest.py (`pytest -m "not slow"` skips them in the inner loop).
pytestmark = pytest.mark.slow

BIG = np.random.RandomState(0).normal(size=(60000, 8))


def _long_fit(**params):
    """A fit that runs for seconds: many full components, no convergence test."""
    params = {
        "n_components": 12,
        "covariance_type": "full",
        "init_params": "random",
        "max_iter": 10000,
        "tol": 0.0,
        "random_state": 0,
        "n_threads": 1,
        **params,
    }
    return GaussianMixture(**params)


def _largest_pause_while(work):
    """Runs work() in a thread while this thread counts; returns (largest pause between two
    counts, number of counts, duration of work)."""
    done = threading.Event()
    result = {}

    def target():
        start = time.perf_counter()
        try:
            work()
        finally:
            result["duration"] = time.perf_counter() - start
            done.set()

    worker = threading.Thread(target=target)
    worker.start()
    last, largest, counts = time.perf_counter(), 0.0, 0
    while not done.is_set():
        time.sleep(0.001)
        now = time.perf_counter()
        largest, last, counts = max(largest, now - last), now, counts + 1
    worker.join()
    return largest, counts, result["duration"]


def _quiet_fit(est, X):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X)


def _long_enough(make_work, counts=50):
    """Runs make_work(size) with sizes 1, 2, 4, ... until this thread, counting with 1 ms sleeps
    while the call runs, got to count `counts` times; returns (largest pause, duration) of that
    call. With the GIL held for the whole call this thread cannot count at all, so the work grows
    to the cap and the pause equals the call; with it released the size adapts to the machine.
    Every judgement below is relative to the call's own duration, never a number of seconds."""
    size = 1
    while True:
        largest, seen, duration = _largest_pause_while(make_work(size))
        if seen >= counts or size >= 64:
            return largest, duration
        size *= 2


def _iterations_for_about_a_second():
    """EM iterations of _long_fit on BIG that last about a second on this build: 100 natively
    (the cap), a handful under the sanitizers, whose build runs the same loop some 50x slower."""
    two = _seconds(lambda: _quiet_fit(_long_fit(max_iter=2), BIG))
    return int(np.clip(2.0 / two, 5, 100))


def test_fit_releases_the_gil():
    est = _long_fit(max_iter=_iterations_for_about_a_second())
    largest, duration = _long_enough(
        lambda size: lambda: _quiet_fit(est, np.repeat(BIG, size, axis=0))
    )
    # With the GIL held this thread would stall for the whole EM loop (one call into the core).
    assert largest < duration / 4, (largest, duration)


def test_kmeans_init_and_predict_release_the_gil():
    est = GaussianMixture(40, max_iter=1, random_state=0, n_threads=1)
    largest, duration = _long_enough(
        lambda size: lambda: _quiet_fit(est, np.repeat(BIG, size, axis=0))
    )
    assert largest < duration / 4, (largest, duration)
    largest, duration = _long_enough(
        lambda size: lambda: est.predict_proba(np.repeat(BIG, 6 * size, axis=0))
    )
    assert largest < duration / 4, (largest, duration)


def test_concurrent_fits_equal_sequential_ones():
    X = make_mixture_data(n_samples=3000, n_features=3, seed=3)
    configs = [
        dict(covariance_type=c, random_state=s, init_params=i)
        for c, s, i in [
            ("full", 0, "kmeans"),
            ("tied", 1, "k-means++"),
            ("diag", 2, "random"),
            ("spherical", 3, "random_from_data"),
            ("full", 4, "k-means++"),
            ("diag", 5, "kmeans"),
        ]
    ]

    def fit(config):
        return GaussianMixture(3, n_threads=2, max_iter=50, **config).fit(X)

    sequential = [fit(c) for c in configs]
    concurrent = [None] * len(configs)

    def run(i):
        concurrent[i] = fit(configs[i])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(configs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for a, b in zip(sequential, concurrent):
        for name in ("weights_", "means_", "covariances_", "lower_bound_"):
            np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
        np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))


def _interrupt_after(delay, call):
    """Sends SIGINT to this process after `delay` seconds while call() runs on the main thread;
    returns the seconds from the signal to the KeyboardInterrupt."""
    if threading.current_thread() is not threading.main_thread():
        raise RuntimeError("signals are delivered to the main thread only")
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    sent = []

    def fire():
        sent.append(time.perf_counter())
        os.kill(os.getpid(), signal.SIGINT)

    timer = threading.Timer(delay, fire)
    try:
        timer.start()
        with pytest.raises(KeyboardInterrupt):
            call()
        return time.perf_counter() - sent[0]
    finally:
        timer.cancel()
        signal.signal(signal.SIGINT, previous)


def _seconds(call):
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


# The Ctrl-C tests judge the delay from the signal to the KeyboardInterrupt against a piece of
# the same work measured on the same machine, never against a number of seconds: the delay must
# be shorter than a small part of the call it interrupts, which is only possible if the core
# checks for signals inside the call.


def test_ctrl_c_during_kmeans_plusplus_seeding():
    # Seeding 3000 centres takes about ten times as long as seeding 300.
    tenth = _seconds(lambda: _core.kmeans_plusplus(BIG, np.empty(0), 300, 0, 1))
    est = GaussianMixture(3000, init_params="k-means++", random_state=0, n_threads=1)
    latency = _interrupt_after(tenth, lambda: est.fit(BIG))
    assert latency < tenth, (latency, tenth)


def test_ctrl_c_during_kmeans_plusplus_core_call():
    tenth = _seconds(lambda: _core.kmeans_plusplus(BIG, np.empty(0), 300, 0, 2))
    latency = _interrupt_after(tenth, lambda: _core.kmeans_plusplus(BIG, np.empty(0), 3000, 0, 2))
    assert latency < tenth, (latency, tenth)


def test_ctrl_c_during_em():
    # The start is given, so the signal arrives during EM itself; the delay must be well under
    # one EM pass, so the check happens inside the pass, not only between iterations.
    X = np.random.RandomState(1).normal(size=(500000, 8))
    k = 200
    start = {
        "weights_init": np.full(k, 1.0 / k),
        "means_init": X[:k],
        "precisions_init": np.stack([np.eye(8)] * k),
    }
    mixture = GaussianMixture(k, max_iter=0, **start).fit(X[:1000])._mixture()

    def one_pass_over(rows):
        return _seconds(lambda: _core.accumulate(rows, np.empty(0), mixture, _core.PassOptions(1)))

    # As many rows as one pass takes about a second over: all 500,000 natively, a few tens of
    # thousands under the sanitizers, where a pass over all of them took over a minute.
    rows = int(np.clip(50000 / one_pass_over(X[:50000]), 20000, len(X)))
    X = X[:rows]
    one_pass = one_pass_over(X)
    latency = _interrupt_after(one_pass / 4, lambda: _long_fit(n_components=k, **start).fit(X))
    assert latency < one_pass / 2, (latency, one_pass)


def test_fit_works_after_an_interrupt():
    est = _long_fit()
    _interrupt_after(0.3, lambda: est.fit(BIG))
    X = make_mixture_data(n_samples=300, seed=1)
    gm = GaussianMixture(3, random_state=0).fit(X)
    assert np.isfinite(gm.score(X))


def test_an_interrupted_pass_leaves_no_sums_behind():
    # float32 full covariances with more than 4 features defer each block's moment sums in the
    # thread's workspace until the end of a slot; an interrupt leaves them half done, and the
    # next pass on that thread must not add them to its own.
    X32 = make_mixture_data(n_samples=2000, n_features=8, seed=5).astype(np.float32)
    gm = GaussianMixture(3, random_state=0, n_threads=1).fit(X32)
    mix = gm._mixture()
    before = _core.accumulate(X32, np.empty(0), mix, _core.PassOptions(1))
    # Many blocks per slot, so that the interrupt almost surely lands inside a slot; the start
    # is given, so it lands in EM.
    many = np.repeat(BIG.astype(np.float32), 10, axis=0)
    k = 40
    est = _long_fit(
        n_components=k,
        weights_init=np.full(k, 1.0 / k),
        means_init=BIG[:k],
        precisions_init=np.stack([np.eye(8)] * k),
    )
    _interrupt_after(0.3, lambda: est.fit(many))
    after = _core.accumulate(X32, np.empty(0), mix, _core.PassOptions(1))
    np.testing.assert_array_equal(after.s1, before.s1)
    np.testing.assert_array_equal(after.s2, before.s2)
    np.testing.assert_array_equal(after.n_k, before.n_k)
