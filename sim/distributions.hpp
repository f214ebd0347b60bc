#pragma once
// The few distributions the simulator draws from, written out so that every
// standard library gives the same values: <random>'s distributions are
// implementation-defined, and libm's log() may differ in the last bit between
// C libraries (and versions of one). Everything here uses only IEEE-754
// +, -, *, / (correctly rounded everywhere) on values from a seeded Rng.

#include <cmath>
#include <cstdint>

#include "stack/base/rng.hpp"
#include "stack/base/time.hpp"

namespace tapstack::sim {

// Natural logarithm of x in (0, 1], to within a few ulp of std::log. With
// x = m * 2^e and m in [sqrt(1/2), sqrt(2)), ln x = e ln 2 + ln m, and
// ln m = 2 atanh(z) = 2 (z + z^3/3 + z^5/5 + ...) with z = (m-1)/(m+1),
// |z| <= 0.1716, so 14 terms leave an error below 0.1716^29 / 29 ~ 1e-24.
// std::frexp and std::ldexp are exact (they only move the exponent).
inline double portable_log(double x) {
  int e = 0;
  double m = std::frexp(x, &e);  // x = m * 2^e, m in [0.5, 1)
  if (m < 0.70710678118654752440) {
    m *= 2.0;
    e -= 1;
  }
  const double z = (m - 1.0) / (m + 1.0);
  const double z2 = z * z;
  double term = z;
  double sum = 0.0;
  for (int k = 0; k < 14; ++k) {
    sum += term / static_cast<double>(2 * k + 1);
    term *= z2;
  }
  constexpr double kLn2 = 0.69314718055994530942;
  return static_cast<double>(e) * kLn2 + 2.0 * sum;
}

// Exp(1): -ln(1 - U) with U uniform in [0, 1), so the argument is in (0, 1];
// at most 53 ln 2 ~ 36.7.
inline double exponential_unit(Rng& rng) { return -portable_log(1.0 - rng.unit()); }

// An exponential duration with the given mean, rounded to the nanosecond and
// at least 1 ns (a zero-length period would only be noise); mean 0 gives 0.
// Means are bounded by the caller (LinkFaults::kDurationMax), so the product
// (at most 36.7 * mean) stays far inside int64.
inline Duration exponential_duration(Rng& rng, Duration mean) {
  if (mean <= Duration::zero()) {
    return Duration::zero();
  }
  const double ns = static_cast<double>(mean.ns()) * exponential_unit(rng);
  const auto rounded = static_cast<std::int64_t>(ns + 0.5);
  return Duration::nanoseconds(rounded < 1 ? 1 : rounded);
}

// Uniform in [0, max], both ends included, to the nanosecond. max 0 gives 0
// without drawing.
inline Duration uniform_duration(Rng& rng, Duration max) {
  if (max <= Duration::zero()) {
    return Duration::zero();
  }
  return Duration::nanoseconds(static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(max.ns()) + 1)));
}

}  // namespace tapstack::sim
