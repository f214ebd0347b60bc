#pragma once
// Result<T, E>: a value or an error, for parse and socket calls on the packet
// path (C++20 has no std::expected). Reading the wrong alternative is a
// programmer error and aborts.

#include <cstdlib>
#include <type_traits>
#include <utility>
#include <variant>

namespace tapstack {

template <class E>
struct Failure {
  E error;
};

// Spelled fail(e) at a return site: `return fail(Error::Truncated);`.
template <class E>
constexpr Failure<E> fail(E e) {
  return Failure<E>{e};
}

template <class T, class E>
class [[nodiscard]] Result {
 public:
  constexpr Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  constexpr Result(Failure<E> f) : state_(std::in_place_index<1>, f.error) {}      // NOLINT: implicit by design

  constexpr bool ok() const { return state_.index() == 0; }
  constexpr explicit operator bool() const { return ok(); }

  constexpr T& value() & { return check_value(), *std::get_if<0>(&state_); }
  constexpr const T& value() const& { return check_value(), *std::get_if<0>(&state_); }
  constexpr T&& value() && { return check_value(), std::move(*std::get_if<0>(&state_)); }
  constexpr T& operator*() & { return value(); }
  constexpr const T& operator*() const& { return value(); }
  constexpr T* operator->() { return &value(); }
  constexpr const T* operator->() const { return &value(); }

  constexpr E error() const {
    if (ok()) {
      std::abort();
    }
    return *std::get_if<1>(&state_);
  }

 private:
  constexpr void check_value() const {
    if (!ok()) {
      std::abort();
    }
  }
  std::variant<T, E> state_;
};

// For calls that succeed with nothing to return.
struct Unit {
  friend constexpr bool operator==(Unit, Unit) { return true; }
};

}  // namespace tapstack
