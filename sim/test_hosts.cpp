#include "sim/test_hosts.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <utility>

#include "sim/replay.hpp"

namespace tapstack::sim {
namespace {

// Field offsets of a test frame.
constexpr std::size_t kKindAt = 14;
constexpr std::size_t kZeroAt = 15;
constexpr std::size_t kSeqAt = 16;
constexpr std::size_t kPaddingAt = 20;
constexpr std::size_t kCheckLen = 8;
// Random padding kept per host, cycled over the padding bytes of its frames.
constexpr std::size_t kPaddingLen = 64;

std::uint64_t load_le64(const std::byte* p) {
  std::uint64_t w = 0;
  for (std::size_t i = 0; i < 8; ++i) {
    w |= static_cast<std::uint64_t>(p[i]) << (8 * i);
  }
  return w;
}

// One hash step: a bijection of h for a fixed word, and of the word for a fixed h.
constexpr std::uint64_t mix(std::uint64_t h, std::uint64_t word) {
  h = (h ^ word) * 0x9e3779b97f4a7c15ULL;
  return h ^ (h >> 29);
}

void store_check(MutableBytes frame) {
  const std::size_t covered = frame.size() - kCheckLen;
  const std::uint64_t check = test_frame_check(Bytes{frame.data(), covered});
  store_be32(frame, covered, static_cast<std::uint32_t>(check >> 32));
  store_be32(frame, covered + 4, static_cast<std::uint32_t>(check));
}

ByteVector random_padding(std::uint64_t seed) {
  Rng rng(seed);
  ByteVector padding(kPaddingLen);
  for (std::size_t i = 0; i < kPaddingLen; i += 8) {
    const std::uint64_t word = rng.next_u64();
    for (std::size_t j = 0; j < 8; ++j) {
      padding[i + j] = static_cast<std::byte>(word >> (8 * j));
    }
  }
  return padding;
}

Result<Unit, std::string> check_frame_len(const std::string& option, std::size_t len) {
  if (len < kTestFrameLenMin || len > kTestFrameLenMax) {
    return fail(option + ": must be in [" + std::to_string(kTestFrameLenMin) + ", " +
                std::to_string(kTestFrameLenMax) + "], got " + std::to_string(len));
  }
  return Unit{};
}

bool for_me(const wire::MacAddress& destination, const wire::MacAddress& mine) {
  return destination == mine || destination.is_broadcast();
}

}  // namespace

// ---- test frames ----

std::uint64_t test_frame_check(Bytes covered) {
  std::uint64_t h = 0x6a09e667f3bcc909ULL ^ covered.size();
  std::size_t i = 0;
  for (; i + 8 <= covered.size(); i += 8) {
    h = mix(h, load_le64(covered.data() + i));
  }
  if (i < covered.size()) {
    std::uint64_t tail = 0;
    for (std::size_t j = 0; i + j < covered.size(); ++j) {
      tail |= static_cast<std::uint64_t>(covered[i + j]) << (8 * j);
    }
    h = mix(h, tail);
  }
  return h ^ (h >> 32);
}

Result<TestFrame, TestFrameError> parse_test_frame(Bytes frame) {
  if (frame.size() < kTestFrameLenMin || load_be16(frame, 12) != kTestEtherType) {
    return fail(TestFrameError::NotTestFrame);
  }
  const std::size_t covered = frame.size() - kCheckLen;
  const std::uint64_t stored =
      (static_cast<std::uint64_t>(load_be32(frame, covered)) << 32) | load_be32(frame, covered + 4);
  if (stored != test_frame_check(frame.first(covered))) {
    return fail(TestFrameError::BadCheck);
  }
  const std::uint8_t kind = load_u8(frame, kKindAt);
  if (kind < 1 || kind > 4 || load_u8(frame, kZeroAt) != 0) {
    return fail(TestFrameError::NotTestFrame);
  }
  TestFrame parsed;
  parsed.destination = wire::MacAddress::load(frame, 0);
  parsed.source = wire::MacAddress::load(frame, 6);
  parsed.kind = static_cast<TestFrameKind>(kind);
  parsed.seq = load_be32(frame, kSeqAt);
  return parsed;
}

void emit_test_frame(MutableBytes out, const TestFrame& frame, Bytes padding) {
  if (out.size() < kTestFrameLenMin) {
    std::abort();
  }
  frame.destination.store(out, 0);
  frame.source.store(out, 6);
  store_be16(out, 12, kTestEtherType);
  store_u8(out, kKindAt, static_cast<std::uint8_t>(frame.kind));
  store_u8(out, kZeroAt, 0);
  store_be32(out, kSeqAt, frame.seq);
  for (std::size_t i = kPaddingAt; i < out.size() - kCheckLen; ++i) {
    out[i] = padding.empty() ? std::byte{0} : padding[(i - kPaddingAt) % padding.size()];
  }
  store_check(out);
}

void restamp_test_frame(MutableBytes frame, std::uint32_t seq) {
  store_be32(frame, kSeqAt, seq);
  store_check(frame);
}

// ---- PingHost ----

Result<Unit, std::string> PingConfig::validate() const {
  if (peer.octets == wire::MacAddress{}.octets) {
    return fail(std::string("ping.peer: must be an address (all zero is none)"));
  }
  if (count == 0) {
    return fail(std::string("ping.count: must be at least 1"));
  }
  if (auto ok = check_frame_len("ping.frame_len", frame_len); !ok.ok()) {
    return ok;
  }
  if (retry_timeout <= Duration::zero()) {
    return fail("ping.retry_timeout: must be above 0, got " + std::to_string(retry_timeout.ns()) + " ns");
  }
  if (interval < Duration::zero()) {
    return fail("ping.interval: must not be negative, got " + std::to_string(interval.ns()) + " ns");
  }
  return Unit{};
}

PingHost::PingHost(HostEnv env, PingConfig config)
    : device_(env.device), config_(config), frame_(config.frame_len) {
  if (auto ok = config_.validate(); !ok.ok()) {
    throw std::invalid_argument(ok.error());
  }
  TestFrame header{config_.peer, device_.mac(), TestFrameKind::Ping, 0};
  emit_test_frame(frame_, header, as_bytes(random_padding(env.seed)));
}

void PingHost::transmit(Instant now) {
  restamp_test_frame(frame_, seq_);
  auto taken = device_.transmit(as_bytes(frame_));
  if (!taken.ok() || !*taken) {
    stats_.refused++;
  } else {
    stats_.sent++;
  }
  last_sent_ = now;
  deadline_ = now + config_.retry_timeout;
}

Instant PingHost::poll(Instant now) {
  if (done() || failed_) {
    return Instant::never();
  }
  if (!outstanding_) {
    if (now < next_ping_at_) {
      return next_ping_at_;
    }
    seq_++;
    retries_ = 0;
    outstanding_ = true;
    transmit(now);
    return deadline_;
  }
  if (now >= deadline_) {
    if (retries_ == config_.retries_max) {
      failed_ = true;
      return Instant::never();
    }
    retries_++;
    stats_.retransmitted++;
    transmit(now);
  }
  return deadline_;
}

void PingHost::receive(Bytes frame, Instant now) {
  auto parsed = parse_test_frame(frame);
  if (!parsed.ok()) {
    if (parsed.error() == TestFrameError::BadCheck) {
      stats_.corrupt++;
    } else {
      stats_.foreign++;
    }
    return;
  }
  if (parsed->kind != TestFrameKind::Pong || !for_me(parsed->destination, device_.mac())) {
    stats_.foreign++;
    return;
  }
  if (!outstanding_ || parsed->seq != seq_) {
    stats_.stale++;
    return;
  }
  const Duration rtt = now - last_sent_;
  stats_.rtt_min = std::min(stats_.rtt_min, rtt);
  stats_.rtt_max = std::max(stats_.rtt_max, rtt);
  stats_.rtt_total += rtt;
  stats_.completed++;
  outstanding_ = false;
  next_ping_at_ = now + config_.interval;
}

// ---- PongHost ----

PongHost::PongHost(HostEnv env) : device_(env.device), padding_(random_padding(env.seed)) {}

void PongHost::receive(Bytes frame, Instant) {
  auto parsed = parse_test_frame(frame);
  if (!parsed.ok()) {
    if (parsed.error() == TestFrameError::BadCheck) {
      stats_.corrupt++;
    } else {
      stats_.foreign++;
    }
    return;
  }
  if (parsed->kind != TestFrameKind::Ping || !for_me(parsed->destination, device_.mac())) {
    stats_.foreign++;
    return;
  }
  stats_.pings++;
  reply_.resize(frame.size());
  const TestFrame pong{parsed->source, device_.mac(), TestFrameKind::Pong, parsed->seq};
  emit_test_frame(reply_, pong, as_bytes(padding_));
  auto taken = device_.transmit(as_bytes(reply_));
  if (!taken.ok() || !*taken) {
    stats_.refused++;
    return;
  }
  stats_.pongs++;
}

Instant PongHost::poll(Instant) { return Instant::never(); }

// ---- FloodSender ----

Result<Unit, std::string> FloodConfig::validate() const {
  if (destination.octets == wire::MacAddress{}.octets) {
    return fail(std::string("flood.destination: must be an address (all zero is none)"));
  }
  if (frames > 0xffffffffULL) {
    return fail("flood.frames: at most 4294967295 (32-bit sequence numbers), got " + std::to_string(frames));
  }
  if (auto ok = check_frame_len("flood.frame_len", frame_len); !ok.ok()) {
    return ok;
  }
  if (burst == 0) {
    return fail(std::string("flood.burst: must be at least 1"));
  }
  if (interval < Duration::zero()) {
    return fail("flood.interval: must not be negative, got " + std::to_string(interval.ns()) + " ns");
  }
  return Unit{};
}

FloodSender::FloodSender(HostEnv env, FloodConfig config)
    : device_(env.device), config_(config), frame_(config.frame_len) {
  if (auto ok = config_.validate(); !ok.ok()) {
    throw std::invalid_argument(ok.error());
  }
  const TestFrame header{config_.destination, device_.mac(), TestFrameKind::Flood, 0};
  emit_test_frame(frame_, header, as_bytes(random_padding(env.seed)));
}

void FloodSender::receive(Bytes, Instant) {}

Instant FloodSender::poll(Instant now) {
  if (done()) {
    return Instant::never();
  }
  if (now < next_burst_at_) {
    return next_burst_at_;
  }
  for (std::uint32_t i = 0; i < config_.burst && !done(); ++i) {
    restamp_test_frame(frame_, static_cast<std::uint32_t>(stats_.sent + 1));
    auto taken = device_.transmit(as_bytes(frame_));
    if (!taken.ok() || !*taken) {
      stats_.refused++;
      break;
    }
    stats_.sent++;
  }
  next_burst_at_ = now + config_.interval;
  return done() ? Instant::never() : next_burst_at_;
}

// ---- FloodSink ----

FloodSink::FloodSink(HostEnv env, FloodSinkConfig config)
    : device_(env.device),
      config_(config),
      padding_(random_padding(env.seed)),
      seen_((config.frames_expected + 63) / 64) {}

Instant FloodSink::poll(Instant) {
  if (config_.announce && !announced_) {
    announced_ = true;
    ByteVector hello(kTestFrameLenMin);
    emit_test_frame(hello, TestFrame{wire::MacAddress::broadcast(), device_.mac(), TestFrameKind::Hello, 0},
                    as_bytes(padding_));
    (void)device_.transmit(as_bytes(hello));
  }
  return Instant::never();
}

void FloodSink::receive(Bytes frame, Instant) {
  stats_.received++;
  stats_.bytes += frame.size();
  auto parsed = parse_test_frame(frame);
  if (!parsed.ok()) {
    if (parsed.error() == TestFrameError::BadCheck) {
      stats_.corrupt++;
    } else {
      stats_.foreign++;
    }
    return;
  }
  if (parsed->kind != TestFrameKind::Flood) {
    stats_.foreign++;
    return;
  }
  const std::uint32_t seq = parsed->seq;
  if (seq == 0 || seq > config_.frames_expected) {
    stats_.unexpected++;
    return;
  }
  std::uint64_t& word = seen_[(seq - 1) / 64];
  const std::uint64_t bit = std::uint64_t{1} << ((seq - 1) % 64);
  if ((word & bit) != 0) {
    stats_.duplicates++;
    return;
  }
  word |= bit;
  stats_.unique++;
  if (seq < highest_) {
    stats_.out_of_order++;
  }
  highest_ = std::max(highest_, seq);
}

// ---- the standard scenario ----

LinkFaults ScenarioOptions::default_link_faults() {
  LinkFaults f;
  f.loss_probability = 0.05;
  f.burst_enter_probability = 0.01;
  f.burst_exit_probability = 0.3;
  f.burst_loss_probability = 0.8;
  f.delay_one_way = Duration::milliseconds(1);
  f.jitter_max = Duration::microseconds(200);
  f.reorder_probability = 0.05;
  f.reorder_delay = Duration::milliseconds(3);
  f.duplicate_probability = 0.03;
  f.corrupt_probability = 0.02;
  f.corrupt_bits_max = 3;
  f.rate_bits_per_second = 100'000'000;
  f.queue_bytes_max = 64 * 1024;
  f.partitions = {
      Partition{Instant::epoch() + Duration::milliseconds(5), Instant::epoch() + Duration::milliseconds(8)}};
  f.partition_interval_mean = Duration::milliseconds(200);
  f.partition_duration_mean = Duration::milliseconds(2);
  return f;
}

LinkFaults ScenarioOptions::default_lan_faults() {
  LinkFaults f;
  f.loss_probability = 0.02;
  f.delay_one_way = Duration::microseconds(100);
  f.jitter_max = Duration::microseconds(50);
  f.reorder_probability = 0.02;
  f.reorder_delay = Duration::milliseconds(1);
  f.duplicate_probability = 0.01;
  f.corrupt_probability = 0.01;
  f.corrupt_bits_max = 2;
  f.rate_bits_per_second = 1'000'000'000;
  return f;
}

void bind_scenario_options(OptionTable& table, ScenarioOptions& options) {
  // The table takes the values at binding time as the defaults: bind while
  // `options` holds ScenarioOptions{}, then put its values back.
  ScenarioOptions values = std::move(options);
  options = ScenarioOptions{};
  table.add("--seed", options.seed, "the master seed");
  bind_fault_options(table, "--link-", options.link, "links wan and pipe, both directions: ");
  bind_fault_options(table, "--lan-", options.lan, "segment lan, every cable direction: ");
  table.add("--pings", options.pings, "pings each pinger completes");
  table.add("--flood-frames", options.flood_frames, "frames each flood sender sends");
  table.add("--frame-len", options.frame_len, "length of every test frame, in bytes");
  table.add("--flood-interval", options.flood_interval, "time between flood frames");
  table.add("--retry-timeout", options.retry_timeout, "pinger retransmission timeout");
  table.add("--retries-max", options.retries_max, "retransmissions per ping before failing");
  table.add("--time-max", options.time_max, "virtual time the run may take");
  table.add("--pcap", options.pcap_path, "write a pcap of the wire to this file");
  table.add("--pcap-point", options.pcap_point, "the port the pcap is taken at (* for every port)");
  table.add("--log", options.log_path, "write the event log to this file");
  options = std::move(values);
}

namespace {

// The pieces of a built scenario, for the checks.
struct Built {
  std::unique_ptr<World> world;
  Link* wan = nullptr;
  Link* pipe = nullptr;
  Segment* lan = nullptr;
  PingHost* ping1 = nullptr;
  PingHost* ping2 = nullptr;
  PongHost* pong1 = nullptr;
  PongHost* pong2 = nullptr;
  FloodSender* flood1 = nullptr;
  FloodSender* flood2 = nullptr;
  FloodSink* sink1 = nullptr;
  FloodSink* sink2 = nullptr;
};

template <class T>
T* take(Result<T*, std::string> r, std::string& error) {
  if (!r.ok()) {
    if (error.empty()) {
      error = r.error();
    }
    return nullptr;
  }
  return *r;
}

Result<Built, std::string> build(const ScenarioOptions& o) {
  WorldConfig config;
  config.seed = o.seed;
  config.recording.pcap_path = o.pcap_path;
  config.recording.pcap_point = o.pcap_point;
  config.recording.log_path = o.log_path;
  config.recording.log_to_memory = o.log_to_memory;
  auto world = World::create(config);
  if (!world.ok()) {
    return fail(world.error());
  }
  Built b;
  b.world = std::move(*world);
  World& w = *b.world;
  std::string error;

  LinkConfig wan{"wan", {.name = "ping1"}, {.name = "pong1"}, o.link, o.link};
  b.wan = take(w.add_link(wan), error);
  LinkConfig pipe{"pipe", {.name = "flood1"}, {.name = "sink1"}, o.link, o.link};
  b.pipe = take(w.add_link(pipe), error);
  SegmentConfig lan;
  lan.name = "lan";
  for (const char* name : {"ping2", "pong2", "flood2", "sink2"}) {
    lan.ports.push_back(SegmentPortConfig{PortConfig{.name = name}, o.lan, o.lan});
  }
  b.lan = take(w.add_segment(lan), error);
  if (!error.empty()) {
    return fail(error);
  }

  PingConfig ping;
  ping.count = o.pings;
  ping.frame_len = o.frame_len;
  ping.retry_timeout = o.retry_timeout;
  ping.retries_max = o.retries_max;
  FloodConfig flood;
  flood.frames = o.flood_frames;
  flood.frame_len = o.frame_len;
  flood.interval = o.flood_interval;
  if (auto ok = ping.validate(); !ok.ok()) {
    return fail(ok.error());
  }
  if (auto ok = flood.validate(); !ok.ok()) {
    return fail(ok.error());
  }
  FloodSinkConfig sink{.frames_expected = o.flood_frames, .announce = true};

  ping.peer = b.wan->b().mac();
  b.ping1 = take(w.emplace_host<PingHost>("ping1", b.wan->a(), ping), error);
  b.pong1 = take(w.emplace_host<PongHost>("pong1", b.wan->b()), error);
  flood.destination = b.pipe->b().mac();
  b.flood1 = take(w.emplace_host<FloodSender>("flood1", b.pipe->a(), flood), error);
  b.sink1 = take(w.emplace_host<FloodSink>("sink1", b.pipe->b(), sink), error);
  ping.peer = b.lan->port(1).mac();
  b.ping2 = take(w.emplace_host<PingHost>("ping2", b.lan->port(0), ping), error);
  b.pong2 = take(w.emplace_host<PongHost>("pong2", b.lan->port(1)), error);
  flood.destination = b.lan->port(3).mac();
  b.flood2 = take(w.emplace_host<FloodSender>("flood2", b.lan->port(2), flood), error);
  b.sink2 = take(w.emplace_host<FloodSink>("sink2", b.lan->port(3), sink), error);
  if (!error.empty()) {
    return fail(error);
  }
  return b;
}

std::string ping_line(const char* name, const PingHost& h) {
  const PingStats& s = h.stats();
  return std::string(name) + ": completed=" + std::to_string(s.completed) + " sent=" + std::to_string(s.sent) +
         " retransmitted=" + std::to_string(s.retransmitted) + " stale=" + std::to_string(s.stale) +
         " corrupt=" + std::to_string(s.corrupt) + " foreign=" + std::to_string(s.foreign) +
         (h.failed() ? " FAILED" : "") + "\n";
}

std::string sink_line(const char* name, const FloodSink& h) {
  const FloodSinkStats& s = h.stats();
  return std::string(name) + ": received=" + std::to_string(s.received) + " unique=" + std::to_string(s.unique) +
         " duplicates=" + std::to_string(s.duplicates) + " out_of_order=" + std::to_string(s.out_of_order) +
         " corrupt=" + std::to_string(s.corrupt) + " foreign=" + std::to_string(s.foreign) + "\n";
}

// The first failed expectation, or empty.
std::string check(const Built& b, const ScenarioOptions& o) {
  for (const auto& [name, ping] : {std::pair{"ping1", b.ping1}, std::pair{"ping2", b.ping2}}) {
    if (ping->failed()) {
      return std::string(name) + ": gave up on ping " + std::to_string(ping->stats().completed + 1) + " after " +
             std::to_string(o.retries_max) + " retransmissions";
    }
    if (!ping->done()) {
      return std::string(name) + ": only " + std::to_string(ping->stats().completed) + " of " +
             std::to_string(o.pings) + " pings completed";
    }
  }
  for (const auto& [name, flood] : {std::pair{"flood1", b.flood1}, std::pair{"flood2", b.flood2}}) {
    if (!flood->done()) {
      return std::string(name) + ": sent only " + std::to_string(flood->stats().sent) + " of " +
             std::to_string(o.flood_frames) + " frames";
    }
  }
  const FaultCounters& pipe = b.pipe->a_to_b().counters();
  const FloodSinkStats& s1 = b.sink1->stats();
  if (b.flood1->stats().sent != pipe.offered) {
    return "flood1 sent " + std::to_string(b.flood1->stats().sent) + " frames but pipe offered " +
           std::to_string(pipe.offered);
  }
  if (s1.received != pipe.delivered) {
    return "sink1 received " + std::to_string(s1.received) + " frames but pipe delivered " +
           std::to_string(pipe.delivered);
  }
  if (s1.corrupt + s1.foreign != pipe.corrupted) {
    return "sink1 saw " + std::to_string(s1.corrupt + s1.foreign) + " corrupted frames but pipe corrupted " +
           std::to_string(pipe.corrupted);
  }
  if (s1.unique + s1.duplicates != pipe.delivered - pipe.corrupted) {
    return "sink1: unique + duplicates = " + std::to_string(s1.unique + s1.duplicates) + ", expected " +
           std::to_string(pipe.delivered - pipe.corrupted);
  }
  const FaultCounters& to_sink2 = b.lan->from_switch(3).counters();
  if (b.sink2->stats().received != to_sink2.delivered) {
    return "sink2 received " + std::to_string(b.sink2->stats().received) + " frames but its cable delivered " +
           std::to_string(to_sink2.delivered);
  }
  if (b.flood2->stats().sent != b.lan->to_switch(2).counters().offered) {
    return "flood2 sent " + std::to_string(b.flood2->stats().sent) + " frames but its cable offered " +
           std::to_string(b.lan->to_switch(2).counters().offered);
  }
  if (b.sink2->stats().unique > o.flood_frames) {
    return "sink2 counted more unique frames than were sent";
  }
  return {};
}

}  // namespace

ScenarioResult run_scenario(const ScenarioOptions& options) {
  ScenarioResult result;
  auto built = build(options);
  if (!built.ok()) {
    result.failure = built.error();
    return result;
  }
  Built& b = *built;
  World& world = *b.world;
  if (Recorder* recorder = world.recorder()) {
    recorder->note("scenario start seed=" + std::to_string(options.seed), world.now());
  }
  auto finished = [&b] {
    const bool pings = (b.ping1->done() || b.ping1->failed()) && (b.ping2->done() || b.ping2->failed());
    return pings && b.flood1->done() && b.flood2->done();
  };
  const Instant limit = world.now() + options.time_max;
  result.run = world.run_until(limit, finished);
  if (!result.run.bounded()) {
    // Let the frames still in flight arrive: the hosts have nothing more due,
    // so the queue empties (the clock stays at the last arrival).
    Scheduler& scheduler = world.scheduler();
    const std::uint64_t events = result.run.events;
    result.run = world.run_until(limit, [&scheduler] { return scheduler.pending() == 0; });
    result.run.events += events;
  }
  if (Recorder* recorder = world.recorder()) {
    recorder->note("scenario end", world.now());
  }
  result.summary = ping_line("ping1", *b.ping1) + ping_line("ping2", *b.ping2) + sink_line("sink1", *b.sink1) +
                   sink_line("sink2", *b.sink2);
  result.counters = world.counters_report();
  if (result.run.bounded()) {
    result.failure = std::string("run stopped: ") + to_string(result.run.stop);
  } else {
    result.failure = check(b, options);
  }
  if (auto flushed = world.flush_recording(); !flushed.ok() && result.failure.empty()) {
    result.failure = flushed.error();
  }
  if (Recorder* recorder = world.recorder()) {
    result.log = recorder->log_text();
  }
  result.ok = result.failure.empty();
  return result;
}

}  // namespace tapstack::sim
