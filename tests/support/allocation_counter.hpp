#pragma once
// Counts heap allocations, to prove a hot path allocates nothing in steady
// state. Including this header REPLACES the global operator new/delete of the
// test program ([replacement.functions]: they cannot be inline), so include it
// in exactly one file per test executable.
//
//   const std::uint64_t n = tapstack::test_support::allocations_during([&] { ... });

#include <cstdint>
#include <cstdlib>
#include <new>

namespace tapstack::test_support {

inline bool g_counting_allocations = false;
inline std::uint64_t g_allocations = 0;

// How many times operator new ran while `work` did.
template <class F>
std::uint64_t allocations_during(F&& work) {
  const std::uint64_t before = g_allocations;
  g_counting_allocations = true;
  work();
  g_counting_allocations = false;
  return g_allocations - before;
}

}  // namespace tapstack::test_support

// The replacement pairs new with malloc and delete with free, which is
// consistent; GCC cannot see that once they are inlined, hence the pragma.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t size) {
  if (tapstack::test_support::g_counting_allocations) {
    ++tapstack::test_support::g_allocations;
  }
  if (void* p = std::malloc(size == 0 ? 1 : size)) {
    return p;
  }
  throw std::bad_alloc{};
}
void* operator new[](std::size_t size) { return operator new(size); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop
