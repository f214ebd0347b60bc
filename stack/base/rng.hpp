#pragma once
// Seeded randomness. The stack never draws an unseeded random number: callers
// construct an Rng from a seed and pass it in. xoshiro256** (Blackman and
// Vigna) seeded through SplitMix64; the few distributions we need are written
// here so the output is the same with every standard library.

#include <cstdint>

namespace tapstack {

// SplitMix64: expands one 64-bit seed into a stream; used to seed xoshiro and
// to derive independent sub-seeds (one per link, one per host).
class SplitMix64 {
 public:
  constexpr explicit SplitMix64(std::uint64_t seed) : state_(seed) {}
  constexpr std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

 private:
  std::uint64_t state_;
};

// A sub-seed for the named stream `stream` of `master`: the same (master,
// stream) always gives the same seed, and adding a stream perturbs no other.
constexpr std::uint64_t derive_seed(std::uint64_t master, std::uint64_t stream) {
  SplitMix64 mix(master ^ (stream * 0xd1b54a32d192ed03ULL));
  mix.next();
  return mix.next();
}

class Rng {
  __extension__ typedef unsigned __int128 U128;

 public:
  constexpr explicit Rng(std::uint64_t seed) {
    SplitMix64 mix(seed);
    for (auto& word : s_) {
      word = mix.next();
    }
  }

  constexpr std::uint64_t next_u64() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  constexpr std::uint32_t next_u32() { return static_cast<std::uint32_t>(next_u64() >> 32); }

  // Uniform in [0, bound) without modulo bias (Lemire's method with rejection).
  constexpr std::uint64_t below(std::uint64_t bound) {
    if (bound == 0) {
      return 0;
    }
    const std::uint64_t threshold = (0 - bound) % bound;
    for (;;) {
      const U128 m = static_cast<U128>(next_u64()) * bound;
      if (static_cast<std::uint64_t>(m) >= threshold) {
        return static_cast<std::uint64_t>(m >> 64);
      }
    }
  }

  // Uniform in [0, 1) with 53 random bits.
  constexpr double unit() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

  // True with probability p (p <= 0: never, p >= 1: always).
  constexpr bool chance(double p) { return unit() < p; }

 private:
  static constexpr std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4]{};
};

}  // namespace tapstack
