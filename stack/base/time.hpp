#pragma once
// Instant and Duration: strong types over signed nanoseconds. The stack never
// reads a clock; every Instant comes from the caller (a monotonic clock live,
// the virtual clock in the simulator, pcap timestamps in replay).

#include <compare>
#include <cstdint>
#include <limits>

namespace tapstack {

class Duration {
 public:
  constexpr Duration() = default;
  static constexpr Duration nanoseconds(std::int64_t n) { return Duration{n}; }
  static constexpr Duration microseconds(std::int64_t n) { return Duration{n * 1'000}; }
  static constexpr Duration milliseconds(std::int64_t n) { return Duration{n * 1'000'000}; }
  static constexpr Duration seconds(std::int64_t n) { return Duration{n * 1'000'000'000}; }
  static constexpr Duration zero() { return Duration{0}; }
  static constexpr Duration max() { return Duration{std::numeric_limits<std::int64_t>::max()}; }

  constexpr std::int64_t ns() const { return ns_; }
  constexpr std::int64_t us() const { return ns_ / 1'000; }
  constexpr std::int64_t ms() const { return ns_ / 1'000'000; }
  constexpr double seconds_f() const { return static_cast<double>(ns_) / 1e9; }

  constexpr auto operator<=>(const Duration&) const = default;
  constexpr Duration operator+(Duration o) const { return Duration{ns_ + o.ns_}; }
  constexpr Duration operator-(Duration o) const { return Duration{ns_ - o.ns_}; }
  constexpr Duration operator*(std::int64_t k) const { return Duration{ns_ * k}; }
  constexpr Duration operator/(std::int64_t k) const { return Duration{ns_ / k}; }
  constexpr Duration& operator+=(Duration o) { ns_ += o.ns_; return *this; }
  constexpr Duration& operator-=(Duration o) { ns_ -= o.ns_; return *this; }

 private:
  constexpr explicit Duration(std::int64_t ns) : ns_(ns) {}
  std::int64_t ns_ = 0;
};

class Instant {
 public:
  constexpr Instant() = default;
  static constexpr Instant from_ns(std::int64_t ns) { return Instant{ns}; }
  static constexpr Instant epoch() { return Instant{0}; }
  // "No deadline": later than every real instant.
  static constexpr Instant never() { return Instant{std::numeric_limits<std::int64_t>::max()}; }

  constexpr std::int64_t ns() const { return ns_; }
  constexpr Duration since_epoch() const { return Duration::nanoseconds(ns_); }

  constexpr auto operator<=>(const Instant&) const = default;
  constexpr Instant operator+(Duration d) const { return Instant{ns_ + d.ns()}; }
  constexpr Instant operator-(Duration d) const { return Instant{ns_ - d.ns()}; }
  constexpr Duration operator-(Instant o) const { return Duration::nanoseconds(ns_ - o.ns_); }
  constexpr Instant& operator+=(Duration d) { ns_ += d.ns(); return *this; }

 private:
  constexpr explicit Instant(std::int64_t ns) : ns_(ns) {}
  std::int64_t ns_ = 0;
};

}  // namespace tapstack
