#pragma once
// ByteSource and ByteSink: the two ends an app copies a byte stream between
// when one of them is not a socket (the connect app: standard input to the
// connection, the connection to standard output). Apps do no I/O of their
// own, so whoever runs them injects these: non-blocking file descriptors in
// `tapstack live` (tools/live.cpp), memory in tests and the simulator.
//
// Both are non-blocking: a call does what it can now and says WouldBlock
// otherwise; the driver then wakes the app when the descriptor is ready (the
// app says what it waits for through its own wants_* calls).

#include <algorithm>
#include <cstddef>
#include <string>
#include <utility>

#include "stack/base/bytes.hpp"

namespace tapstack::apps {

enum class IoStatus : unsigned char {
  Ok,          // `bytes` moved (> 0)
  WouldBlock,  // nothing can move now
  End,         // source: end of input (nothing more will come)
  Error,       // failed for good; `error` says why
};

struct IoResult {
  IoStatus status = IoStatus::Ok;
  std::size_t bytes = 0;
  std::string error;

  static IoResult ok(std::size_t n) { return IoResult{IoStatus::Ok, n, {}}; }
  static IoResult would_block() { return IoResult{IoStatus::WouldBlock, 0, {}}; }
  static IoResult end() { return IoResult{IoStatus::End, 0, {}}; }
  static IoResult failed(std::string why) { return IoResult{IoStatus::Error, 0, std::move(why)}; }
};

class ByteSource {
 public:
  ByteSource() = default;
  ByteSource(const ByteSource&) = delete;
  ByteSource& operator=(const ByteSource&) = delete;
  virtual ~ByteSource() = default;
  // Reads up to out.size() (> 0) bytes into `out`.
  virtual IoResult read(MutableBytes out) = 0;
};

class ByteSink {
 public:
  ByteSink() = default;
  ByteSink(const ByteSink&) = delete;
  ByteSink& operator=(const ByteSink&) = delete;
  virtual ~ByteSink() = default;
  // Writes a prefix of `data` (non-empty); Ok with how much.
  virtual IoResult write(Bytes data) = 0;
};

// A source over bytes in memory, for tests and the simulator: hands out at most `chunk` bytes a
// read, then End. With `blocked(true)` it says WouldBlock (input that has not arrived yet).
class MemorySource final : public ByteSource {
 public:
  explicit MemorySource(ByteVector data, std::size_t chunk = 65536) : data_(std::move(data)), chunk_(chunk) {}
  IoResult read(MutableBytes out) override {
    if (blocked_) {
      return IoResult::would_block();
    }
    if (at_ == data_.size()) {
      return IoResult::end();
    }
    const std::size_t n = std::min({out.size(), chunk_, data_.size() - at_});
    std::copy_n(data_.begin() + static_cast<std::ptrdiff_t>(at_), n, out.begin());
    at_ += n;
    return IoResult::ok(n);
  }
  void set_blocked(bool blocked) { blocked_ = blocked; }
  std::size_t consumed() const { return at_; }

 private:
  ByteVector data_;
  std::size_t chunk_;
  std::size_t at_ = 0;
  bool blocked_ = false;
};

// A sink into memory, for tests and the simulator: takes at most `chunk` bytes a write; with
// `blocked(true)` it says WouldBlock (a reader that does not keep up).
class MemorySink final : public ByteSink {
 public:
  explicit MemorySink(std::size_t chunk = 65536) : chunk_(chunk) {}
  IoResult write(Bytes data) override {
    if (blocked_) {
      return IoResult::would_block();
    }
    const std::size_t n = std::min(data.size(), chunk_);
    data_.insert(data_.end(), data.begin(), data.begin() + static_cast<std::ptrdiff_t>(n));
    return IoResult::ok(n);
  }
  void set_blocked(bool blocked) { blocked_ = blocked; }
  const ByteVector& data() const { return data_; }

 private:
  std::size_t chunk_;
  ByteVector data_;
  bool blocked_ = false;
};

}  // namespace tapstack::apps
