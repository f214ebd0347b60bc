// TCP bulk transfer between two Stacks in one process (issue 5 "Performance"):
// payload Gbit/s per CPU-second over a lossless in-memory link, at a 1500-byte
// and a 65535-byte MTU, beside memcpy (and the Internet checksum) over the
// same segment sizes in the same run. Target: at least 20 Gbit/s per core at
// the 64 KiB MTU.
//
// The link is the lightest one that keeps the stacks honest: each side's
// device copies a transmitted frame into a preallocated ring slot (the "wire";
// no allocation per frame, unlike QueueDevice, and no scheduler, unlike the
// simulator), and the driver hands the slots to the other stack's receive().
// Both stacks, the apps and the link run on this one thread, so the CPU time
// measured is the whole cost of moving the bytes: tcp_send copying in,
// segmenting, checksums, the link copy, input, reassembly into the receive
// buffer, tcp_receive copying out, and the ACKs going back.
//
// Virtual time moves 1 us per round in which something happened, and jumps to
// the next deadline when nothing did (then timers run: delayed ACK, RTO).
//
// Counters (rates are per CPU-second of the benchmark):
//   payload_Gbps  application bytes delivered, in Gbit/s
//   memcpy_Gbps   memcpy of MSS-sized blocks through 4 MiB buffers (the same sizes, same run;
//                 BM_TcpMemcpy has it also through cache-warm 256 KiB buffers)
//   csum_Gbps     the Internet checksum over MSS-sized blocks of a 4 MiB buffer
//   vs_memcpy     payload_Gbps / memcpy_Gbps
//   segs/s        data segments per CPU-second; frames_per_seg frames (data + ACK) per data segment
//   retrans, stalls  retransmissions, and rounds that had to wait for a timer (both 0 on a
//                 lossless link once the connection runs; TAPSTACK_BENCH_COUNTERS=1 prints every
//                 non-zero counter of both stacks and each stall on stderr)
#include <benchmark/benchmark.h>

#include <time.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string_view>
#include <utility>
#include <stdexcept>
#include <vector>

#include "stack/link/device.hpp"
#include "stack/stack.hpp"
#include "stack/wire/checksum.hpp"

namespace {

using namespace tapstack;

constexpr std::size_t kBufferBytes = 4 * 1024 * 1024;     // send and receive buffer per connection
constexpr std::size_t kBytesPerIteration = 32 * 1024 * 1024;
constexpr std::size_t kAppChunk = 256 * 1024;             // one tcp_send / tcp_receive call at most
constexpr std::uint16_t kPort = 5001;

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// A device whose transmitted frames wait in a ring of preallocated slots until the driver
// delivers them to the other stack. Refuses frames when the ring is full (the stack then keeps
// them in its transmit queue), like a real device.
class RingDevice final : public link::Device {
 public:
  RingDevice(wire::MacAddress mac, std::size_t mtu, std::size_t slots)
      : mac_(mac), mtu_(mtu), slots_(slots, ByteVector(mtu + link::kEthernetHeaderLen)), lengths_(slots, 0) {}

  wire::MacAddress mac() const override { return mac_; }
  std::size_t mtu() const override { return mtu_; }
  link::DeviceCapabilities capabilities() const override {
    link::DeviceCapabilities c;
    c.max_batch = slots_.size();
    return c;
  }
  link::DeviceCounters counters() const override { return counters_; }

  Result<std::size_t, link::DeviceError> transmit_batch(std::span<const link::Frame> frames) override {
    std::size_t taken = 0;
    for (const link::Frame& frame : frames) {
      if (auto invalid = validate_tx(frame)) {
        if (taken == 0) {
          counters_.tx_invalid++;
          return fail(*invalid);
        }
        break;
      }
      if (count_ == slots_.size()) {
        counters_.tx_full++;
        break;
      }
      const std::size_t slot = (head_ + count_) % slots_.size();
      copy_frame(slots_[slot].data(), frame.data);
      lengths_[slot] = frame.data.size();
      ++count_;
      ++taken;
      counters_.tx_frames++;
      counters_.tx_bytes += frame.data.size();
    }
    return taken;
  }

  // Not used by the driver (it takes frames with front()/pop()), but a device must offer it.
  Result<std::size_t, link::DeviceError> receive(link::FrameBatch& batch) override {
    (void)batch;
    return std::size_t{0};
  }

  // The wire's copy, in pieces of at most 2 KiB: glibc (2.36) copies larger blocks with
  // `rep movsb`, which on some x86 CPUs (AMD EPYC among them) runs an order of magnitude slower
  // when destination and source are misaligned to each other by 1..32 bytes modulo 64; pieces
  // this size take the vector loop instead. Keeps the link's cost independent of where malloc put
  // the frame buffers (the stack's own copies are left as they are: they are what is measured).
  static void copy_frame(std::byte* to, Bytes frame) {
    constexpr std::size_t kPiece = 2048;
    std::size_t at = 0;
    for (; at + kPiece < frame.size(); at += kPiece) {
      std::memcpy(to + at, frame.data() + at, kPiece);
    }
    std::memcpy(to + at, frame.data() + at, frame.size() - at);
  }

  bool empty() const { return count_ == 0; }
  Bytes front() const { return Bytes{slots_[head_].data(), lengths_[head_]}; }
  void pop() {
    head_ = (head_ + 1) % slots_.size();
    --count_;
    if (count_ == 0) {
      head_ = 0;  // the driver drains the ring every round: reuse the first (cache-warm) slots
    }
  }

 private:
  wire::MacAddress mac_;
  std::size_t mtu_;
  std::vector<ByteVector> slots_;
  std::vector<std::size_t> lengths_;
  std::size_t head_ = 0;
  std::size_t count_ = 0;
  link::DeviceCounters counters_;
};

StackConfig bench_config(std::uint8_t last_octet, std::size_t mtu) {
  StackConfig c;
  c.interface.mac = wire::MacAddress{{0x02, 0, 0, 0, 0, last_octet}};
  c.interface.address = wire::Ipv4Address::from_octets(10, 0, 0, last_octet);
  c.interface.prefix_len = 24;
  c.interface.mtu = mtu;
  c.tcp.send_buffer_bytes = kBufferBytes;
  c.tcp.receive_buffer_bytes = kBufferBytes;
  c.tcp.window_scaling = true;
  return c;
}

ByteVector pattern(std::size_t size) {
  ByteVector b(size);
  for (std::size_t i = 0; i < size; ++i) {
    b[i] = static_cast<std::byte>((i * 131 + (i >> 12)) & 0xff);
  }
  return b;
}

// `size` bytes of pattern(period) repeated: the bytes at k and k + period are the same.
ByteVector periodic_pattern(std::size_t size, std::size_t period) {
  const ByteVector one = pattern(period);
  ByteVector b(size);
  for (std::size_t i = 0; i < size; ++i) {
    b[i] = one[i % period];
  }
  return b;
}

// Two stacks, one connection from a to b, and the driver that moves frames and bytes.
class BulkPair {
 public:
  explicit BulkPair(std::size_t mtu)
      : mss_(mtu - 40),
        dev_a_(bench_config(1, mtu).interface.mac, mtu, ring_slots(mtu)),
        dev_b_(bench_config(2, mtu).interface.mac, mtu, ring_slots(mtu)),
        a_(std::make_unique<Stack>(bench_config(1, mtu), dev_a_, 1)),
        b_(std::make_unique<Stack>(bench_config(2, mtu), dev_b_, 2)),
        source_(periodic_pattern(2 * kAppChunk, kAppChunk)),
        sink_(kAppChunk) {
    auto listener = b_->tcp_listen(kPort, 1);
    auto client = a_->tcp_connect(bench_config(2, mtu).interface.address, kPort);
    if (!listener.ok() || !client.ok()) {
      throw std::runtime_error("tcp bench: listen/connect failed");
    }
    sender_ = *client;
    for (int round = 0; round < 1000 && !receiver_; ++round) {
      step();
      if (auto accepted = b_->tcp_accept(*listener); accepted.ok()) {
        receiver_ = *accepted;
      }
    }
    if (!receiver_) {
      throw std::runtime_error("tcp bench: the handshake did not complete");
    }
    (void)a_->tcp_set_nagle(sender_, false);
  }

  // Moves `bytes` from a's app to b's app. With `verify`, checks every byte read.
  void transfer(std::size_t bytes, bool verify) {
    const std::uint64_t goal = received_ + bytes;
    for (std::uint64_t rounds = 0; received_ < goal; ++rounds) {
      bool progress = false;
      if (sent_ < goal) {
        const std::size_t offset = static_cast<std::size_t>(sent_ % kAppChunk);
        const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(kAppChunk, goal - sent_));
        auto taken = a_->tcp_send(sender_, Bytes{source_.data() + offset, want});
        if (taken.ok()) {
          sent_ += *taken;
          progress = true;
        }
      }
      progress |= pump();
      while (true) {
        auto got = b_->tcp_receive(receiver_, MutableBytes{sink_});
        if (!got.ok() || *got == 0) {
          break;
        }
        if (verify) {
          check_data(*got);
        }
        received_ += *got;
        progress = true;
      }
      progress |= pump();
      // As an event loop does after every batch: run due timers and learn the next deadline (a
      // receive() or a socket call may have armed an earlier one, e.g. a delayed ACK).
      poll();
      progress |= pump();
      if (!progress) {
        // Nothing moved: sleep until the next timer (delayed ACK, retransmission), in virtual time.
        ++stalls_;
        trace_stall();
        now_ = std::max(now_ + Duration::microseconds(1), next_poll_);
        poll();
      } else {
        now_ += Duration::microseconds(1);
      }
      if (rounds > 100'000'000) {
        throw std::runtime_error("tcp bench: the transfer stalled");
      }
    }
  }

  // With TAPSTACK_BENCH_COUNTERS set: why the transfer waits, on stderr.
  void trace_stall() const {
    if (std::getenv("TAPSTACK_BENCH_COUNTERS") == nullptr) {
      return;
    }
    const auto sa = a_->tcp_info(sender_);
    const auto sb = b_->tcp_info(receiver_);
    std::fprintf(stderr, "stall at %.6f s until %.6f s: sent %llu received %llu; a unacked %zu writable %zu; b readable %zu\n",
                 (now_ - Instant::epoch()).seconds_f(), (next_poll_ - Instant::epoch()).seconds_f(),
                 static_cast<unsigned long long>(sent_), static_cast<unsigned long long>(received_),
                 sa.ok() ? sa->unacknowledged : 0, sa.ok() ? sa->writable : 0, sb.ok() ? sb->readable : 0);
  }

  std::uint64_t received() const { return received_; }
  std::uint64_t data_frames() const { return dev_a_.counters().tx_frames; }
  std::uint64_t ack_frames() const { return dev_b_.counters().tx_frames; }
  std::uint64_t retransmissions() const { return a_->tcp_counters().retransmissions; }
  std::size_t mss() const { return mss_; }
  std::uint64_t stalls() const { return stalls_; }
  Duration virtual_time() const { return now_ - Instant::epoch(); }

  // With TAPSTACK_BENCH_COUNTERS set: every non-zero TCP counter of both stacks, on stderr.
  void print_counters() const {
    if (std::getenv("TAPSTACK_BENCH_COUNTERS") == nullptr) {
      return;
    }
    for (const auto& [name, stack] : {std::pair{"a", a_.get()}, std::pair{"b", b_.get()}}) {
      stack->visit_counters([name = name](std::string_view counter, std::uint64_t value) {
        if (value != 0 && !counter.starts_with("tcp.entered.")) {
          std::fprintf(stderr, "  %s %.*s = %llu\n", name, static_cast<int>(counter.size()), counter.data(),
                       static_cast<unsigned long long>(value));
        }
      });
    }
    std::fprintf(stderr, "  stalls %llu, virtual time %.3f s, device refusals a %llu b %llu\n",
                 static_cast<unsigned long long>(stalls_), virtual_time().seconds_f(),
                 static_cast<unsigned long long>(dev_a_.counters().tx_full),
                 static_cast<unsigned long long>(dev_b_.counters().tx_full));
  }

 private:
  static std::size_t ring_slots(std::size_t mtu) {
    // Room for a whole send buffer of segments at once, so the stacks never have to queue.
    return std::max<std::size_t>(256, 2 * kBufferBytes / (mtu - 40) + 64);
  }

  void step() {
    (void)pump();
    poll();
    now_ += Duration::milliseconds(1);
  }

  void poll() { next_poll_ = std::min(a_->poll(now_), b_->poll(now_)); }

  // Delivers frames both ways until both rings are empty; true if any moved.
  bool pump() {
    bool moved = false;
    while (!dev_a_.empty() || !dev_b_.empty()) {
      moved = true;
      while (!dev_a_.empty()) {
        b_->receive(dev_a_.front(), now_);
        dev_a_.pop();
      }
      while (!dev_b_.empty()) {
        a_->receive(dev_b_.front(), now_);
        dev_b_.pop();
      }
    }
    return moved;
  }

  void check_data(std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint64_t k = received_ + i;
      if (sink_[i] != source_[static_cast<std::size_t>(k % kAppChunk)]) {
        throw std::runtime_error("tcp bench: received data differs from what was sent");
      }
    }
  }

  std::size_t mss_;
  RingDevice dev_a_;
  RingDevice dev_b_;
  std::unique_ptr<Stack> a_;
  std::unique_ptr<Stack> b_;
  TcpSocketId sender_ = 0;
  TcpSocketId receiver_ = 0;
  Instant now_ = Instant::epoch();
  Instant next_poll_ = Instant::epoch();
  ByteVector source_;  // kAppChunk-periodic: stream byte k is source_[k % kAppChunk], and any
                       // kAppChunk-long send starting below kAppChunk fits
  ByteVector sink_;
  std::uint64_t sent_ = 0;
  std::uint64_t received_ = 0;
  std::uint64_t stalls_ = 0;  // rounds in which nothing moved: the transfer waited for a timer
};

// Reference buffers: `size` bytes at a 64-byte boundary, and the stride that keeps every block on
// one (so the reference is memcpy at that size, not glibc's slow path for mutually misaligned
// buffers, which depends on where malloc happened to put them).
struct AlignedBuffer {
  explicit AlignedBuffer(std::size_t size) : storage(size + 64) {
    const auto address = reinterpret_cast<std::uintptr_t>(storage.data());
    data = storage.data() + ((64 - address % 64) % 64);
  }
  ByteVector storage;
  std::byte* data = nullptr;
};

std::size_t block_stride(std::size_t block) { return (block + 63) & ~std::size_t{63}; }

// memcpy and the checksum over `block`-byte pieces of 4 MiB buffers (what the stack touches per
// segment, with its buffers as large as the bench's), in Gbit per CPU-second.
struct Reference {
  double memcpy_gbps = 0;
  double checksum_gbps = 0;
};

Reference measure_reference(std::size_t block) {
  AlignedBuffer src(kBufferBytes);
  AlignedBuffer dst(kBufferBytes);
  const ByteVector fill = pattern(kBufferBytes);
  std::memcpy(src.data, fill.data(), kBufferBytes);
  const std::size_t stride = block_stride(block);
  const std::size_t blocks = kBufferBytes / stride;
  const std::size_t passes = std::max<std::size_t>(8, (256u << 20) / kBufferBytes);
  Reference r;
  double start = thread_cpu_seconds();
  for (std::size_t pass = 0; pass < passes; ++pass) {
    for (std::size_t i = 0; i < blocks; ++i) {
      std::memcpy(dst.data + i * stride, src.data + i * stride, block);
    }
    benchmark::ClobberMemory();
  }
  double seconds = thread_cpu_seconds() - start;
  const double bits = static_cast<double>(passes * blocks * block) * 8.0;
  r.memcpy_gbps = bits / seconds / 1e9;
  start = thread_cpu_seconds();
  std::uint32_t sink = 0;
  for (std::size_t pass = 0; pass < passes; ++pass) {
    for (std::size_t i = 0; i < blocks; ++i) {
      sink += wire::internet_checksum(Bytes{src.data + i * stride, block});
    }
  }
  benchmark::DoNotOptimize(sink);
  seconds = thread_cpu_seconds() - start;
  r.checksum_gbps = bits / seconds / 1e9;
  return r;
}

void BM_TcpBulk(benchmark::State& state) {
  const auto mtu = static_cast<std::size_t>(state.range(0));
  BulkPair pair(mtu);
  pair.transfer(8 * 1024 * 1024, true);  // warm-up (windows open, buffers touched), data checked
  const Reference reference = measure_reference(pair.mss());
  const std::uint64_t received_before = pair.received();
  const std::uint64_t data_before = pair.data_frames();
  const std::uint64_t acks_before = pair.ack_frames();
  const std::uint64_t stalls_before = pair.stalls();
  for (auto _ : state) {
    pair.transfer(kBytesPerIteration, false);
  }
  const double bytes = static_cast<double>(pair.received() - received_before);
  const double data_frames = static_cast<double>(pair.data_frames() - data_before);
  const double frames = data_frames + static_cast<double>(pair.ack_frames() - acks_before);
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
  state.counters["payload_Gbps"] = benchmark::Counter(bytes * 8 / 1e9, benchmark::Counter::kIsRate);
  state.counters["segs/s"] = benchmark::Counter(data_frames, benchmark::Counter::kIsRate);
  state.counters["frames_per_seg"] = data_frames > 0 ? frames / data_frames : 0;
  state.counters["memcpy_Gbps"] = reference.memcpy_gbps;
  state.counters["csum_Gbps"] = reference.checksum_gbps;
  state.counters["retrans"] = static_cast<double>(pair.retransmissions());
  state.counters["stalls"] = static_cast<double>(pair.stalls() - stalls_before);
  pair.print_counters();
  // A rate too: divided by the CPU seconds, this is payload_Gbps / memcpy_Gbps.
  state.counters["vs_memcpy"] = benchmark::Counter(bytes * 8 / 1e9 / reference.memcpy_gbps,
                                                   benchmark::Counter::kIsRate);
}
BENCHMARK(BM_TcpBulk)->ArgName("mtu")->Arg(1500)->Arg(65535)->Unit(benchmark::kMillisecond)->MinTime(2.0);

// memcpy alone at the two MSS sizes (1460 and 65495 bytes), through buffers as large as the
// bench's socket buffers (4 MiB: what the stack's copies in and out go through) and through
// cache-warm ones (256 KiB, within L2 on most machines: what the frame copies go through).
void BM_TcpMemcpy(benchmark::State& state) {
  const auto block = static_cast<std::size_t>(state.range(0));
  const auto buffer = static_cast<std::size_t>(state.range(1));
  AlignedBuffer src(buffer);
  AlignedBuffer dst(buffer);
  const ByteVector fill = pattern(buffer);
  std::memcpy(src.data, fill.data(), buffer);
  const std::size_t stride = block_stride(block);
  const std::size_t blocks = buffer / stride;
  for (auto _ : state) {
    for (std::size_t i = 0; i < blocks; ++i) {
      std::memcpy(dst.data + i * stride, src.data + i * stride, block);
    }
    benchmark::ClobberMemory();
  }
  const double bytes = static_cast<double>(state.iterations()) * static_cast<double>(blocks * block);
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
  state.counters["memcpy_Gbps"] = benchmark::Counter(bytes * 8 / 1e9, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_TcpMemcpy)
    ->ArgNames({"block", "buffer"})
    ->ArgsProduct({{1460, 65495}, {256 * 1024, static_cast<std::int64_t>(kBufferBytes)}})
    ->Unit(benchmark::kMicrosecond);

}  // namespace
