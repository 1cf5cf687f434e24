// Splits rows into blocks and slots so threaded sums do not depend on the thread count.
#pragma once

#include "gaussmix/types.hpp"

#include <algorithm>
#include <atomic>
#include <exception>
#include <functional>
#include <memory>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace gaussmix::detail {

/// Rows are cut into blocks of block_rows (the unit of work that stays in cache) and the blocks
/// into n_slots contiguous slots. Each slot is summed sequentially by one thread into its own
/// partial result, and partial results are merged in slot order. n_slots depends on the data
/// size only, so the floating-point summation order, and hence every result, is the same for
/// any number of threads.
struct RowPartition {
  Index n_rows = 0;
  Index block_rows = 1;
  Index n_slots = 0;
  Index blocks_per_slot = 1;

  Index slot_begin(Index slot) const { return std::min(n_rows, slot * blocks_per_slot * block_rows); }
  Index slot_end(Index slot) const { return std::min(n_rows, (slot + 1) * blocks_per_slot * block_rows); }
};

/// max_slots bounds the memory of per-slot partial sums; it must not depend on the thread count.
inline RowPartition partition_rows(Index n_rows, Index block_rows, Index max_slots) {
  RowPartition p;
  p.n_rows = n_rows;
  p.block_rows = std::max<Index>(1, block_rows);
  const Index n_blocks = (n_rows + p.block_rows - 1) / p.block_rows;
  const Index slots = std::max<Index>(1, std::min(max_slots, n_blocks));
  p.blocks_per_slot = std::max<Index>(1, (n_blocks + slots - 1) / slots);
  p.n_slots = n_blocks == 0 ? 0 : (n_blocks + p.blocks_per_slot - 1) / p.blocks_per_slot;
  return p;
}

inline int resolve_threads(int requested) {
#ifdef _OPENMP
  return requested > 0 ? requested : omp_get_max_threads();
#else
  (void)requested;
  return 1;
#endif
}

/// True on the thread that entered the current parallel region (or outside of one).
inline bool is_calling_thread() {
#ifdef _OPENMP
  return omp_get_thread_num() == 0;
#else
  return true;
#endif
}

/// One object per thread of a parallel pass, made by `make` the first time that thread asks
/// for it (threads of one pass each own theirs: kernels with their scratch buffers).
template <class T>
class PerThread {
 public:
  PerThread(int n_threads, std::function<std::unique_ptr<T>()> make)
      : slots_(static_cast<std::size_t>(std::max(1, resolve_threads(n_threads)))), make_(std::move(make)) {}

  /// The calling thread's object (its index in the current parallel region).
  T& local() {
#ifdef _OPENMP
    const auto i = static_cast<std::size_t>(omp_get_thread_num());
#else
    const std::size_t i = 0;
#endif
    auto& slot = slots_.at(i);
    if (!slot) slot = make_();
    return *slot;
  }

 private:
  std::vector<std::unique_ptr<T>> slots_;
  std::function<std::unique_ptr<T>()> make_;
};

/// Calls should_stop, if any, when on the calling thread: the passes call it once per block of
/// rows, so that an interrupt is seen within one block even when a slot is long (a large pass,
/// or a slow build such as the sanitizer one).
inline void poll_stop(const std::function<void()>& should_stop) {
  if (should_stop && is_calling_thread()) should_stop();
}

/// Calls f(slot, row_begin, row_end) for every slot, in parallel. An exception thrown by f is
/// rethrown on the calling thread after the loop (OpenMP regions must not be left by throwing);
/// once one is thrown the slots not yet started are skipped. `should_stop`, if given, is called
/// on the calling thread only (the one its owner, e.g. an interpreter, knows) after each of its
/// slots, and may throw to abandon the pass: that bounds the delay before an interrupt is seen
/// by the time one slot takes.
template <class F>
void for_each_slot(const RowPartition& p, int n_threads, F&& f, const std::function<void()>& should_stop = {}) {
  std::exception_ptr error;
  std::atomic<bool> failed{false};
  const Index n_slots = p.n_slots;
#pragma omp parallel for schedule(dynamic, 1) num_threads(resolve_threads(n_threads)) if (n_slots > 1)
  for (Index s = 0; s < n_slots; ++s) {
    if (failed.load(std::memory_order_relaxed)) continue;
    try {
      f(s, p.slot_begin(s), p.slot_end(s));
      if (should_stop && is_calling_thread()) should_stop();
    } catch (...) {
#pragma omp critical(gaussmix_slot_error)
      if (!error) error = std::current_exception();
      failed.store(true, std::memory_order_relaxed);
    }
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace gaussmix::detail
