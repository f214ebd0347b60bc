// Internet checksum throughput beside memcpy of the same sizes, in one run,
// so the figure is read against the machine's own memory bandwidth.
#include <benchmark/benchmark.h>

#include <cstring>

#include "stack/wire/checksum.hpp"

namespace {

tapstack::ByteVector make_buffer(std::size_t size) {
  tapstack::ByteVector b(size);
  for (std::size_t i = 0; i < size; ++i) {
    b[i] = static_cast<std::byte>(i * 131 + 7);
  }
  return b;
}

void BM_Checksum(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  const tapstack::ByteVector data = make_buffer(size);
  for (auto _ : state) {
    benchmark::DoNotOptimize(tapstack::wire::internet_checksum(tapstack::as_bytes(data)));
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * size));
}

void BM_Memcpy(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  const tapstack::ByteVector src = make_buffer(size);
  tapstack::ByteVector dst(size);
  for (auto _ : state) {
    std::memcpy(dst.data(), src.data(), size);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * size));
}

}  // namespace

BENCHMARK(BM_Checksum)->Arg(64)->Arg(1500)->Arg(65536);
BENCHMARK(BM_Memcpy)->Arg(64)->Arg(1500)->Arg(65536);
