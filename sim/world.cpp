#include "sim/world.hpp"

#include <algorithm>

namespace tapstack::sim {

const char* to_string(RunStop stop) {
  switch (stop) {
    case RunStop::Done: return "done";
    case RunStop::Deadline: return "deadline";
    case RunStop::Idle: return "idle";
    case RunStop::EventBudget: return "event budget exhausted";
    case RunStop::Stalled: return "stalled (livelock at one instant)";
  }
  return "unknown";
}

Result<Unit, std::string> WorldConfig::validate() const {
  if (start < Instant::epoch() || start == Instant::never()) {
    return fail("world.start: must be at or after the epoch and before never, got " + std::to_string(start.ns()) +
                " ns");
  }
  if (events_per_run_max == 0) {
    return fail(std::string("world.events_per_run_max: must be at least 1"));
  }
  if (same_instant_events_max == 0) {
    return fail(std::string("world.same_instant_events_max: must be at least 1"));
  }
  return recording.validate();
}

// ---- HostDriver ----

void World::HostDriver::port_received(Bytes frame, Instant now) {
  host_->receive(frame, now);
  poll(now);
}

void World::HostDriver::on_event(Instant now, std::uint64_t token) {
  if (token != generation_) {
    return;  // superseded by a later deadline
  }
  scheduled_ = Instant::never();
  poll(now);
}

void World::HostDriver::poll(Instant now) { reschedule(host_->poll(now), now); }

void World::HostDriver::reschedule(Instant next, Instant now) {
  if (next == Instant::never()) {
    if (scheduled_ != Instant::never()) {
      generation_++;  // the pending event becomes stale
      scheduled_ = Instant::never();
    }
    return;
  }
  if (next < now) {
    next = now;
  }
  if (next == scheduled_) {
    return;  // already scheduled for exactly then
  }
  generation_++;
  scheduled_ = next;
  scheduler_.schedule_at(next, *this, generation_);
}

// ---- World ----

World::World(WorldConfig config) : config_(std::move(config)), scheduler_(config_.start) {}

World::~World() { (void)flush_recording(); }

Result<std::unique_ptr<World>, std::string> World::create(WorldConfig config) {
  if (auto valid = config.validate(); !valid.ok()) {
    return fail(valid.error());
  }
  std::unique_ptr<World> world(new World(std::move(config)));
  if (world->config_.recording.enabled()) {
    auto recorder = Recorder::open(world->config_.recording);
    if (!recorder.ok()) {
      return fail(recorder.error());
    }
    world->recorder_ = std::move(*recorder);
  }
  return world;
}

std::uint64_t World::stream_id(std::string_view stable_name) {
  // FNV-1a 64: fixed forever, so a name always maps to the same stream.
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (const char c : stable_name) {
    h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
  }
  return h;
}

std::uint64_t World::stream_seed(std::string_view stable_name) const {
  return derive_seed(config_.seed, stream_id(stable_name));
}

std::uint64_t World::host_seed(std::string_view name) const { return stream_seed("host/" + std::string(name)); }

Result<Unit, std::string> World::check_new_wire(std::string_view kind, std::string_view name,
                                                const std::vector<std::string>& port_names) const {
  for (const auto& link : links_) {
    if (link->name() == name) {
      return fail(std::string(kind) + ".name: \"" + std::string(name) + "\" is already the name of a link");
    }
  }
  for (const auto& segment : segments_) {
    if (segment->name() == name) {
      return fail(std::string(kind) + ".name: \"" + std::string(name) + "\" is already the name of a segment");
    }
  }
  for (const std::string& port_name : port_names) {
    for (const Port* port : ports_) {
      if (port->name() == port_name) {
        return fail(std::string(kind) + " " + std::string(name) + ": port name \"" + port_name +
                    "\" is already used in this world");
      }
    }
  }
  return Unit{};
}

void World::register_port(Port& port) {
  ports_.push_back(&port);
  if (recorder_ != nullptr) {
    port.set_capture(recorder_->captures(port.name()));
  }
}

Result<Link*, std::string> World::add_link(const LinkConfig& config) {
  if (auto valid = config.validate(); !valid.ok()) {
    return fail(valid.error());
  }
  if (auto fresh = check_new_wire("link", config.name, {config.a.name, config.b.name}); !fresh.ok()) {
    return fail(fresh.error());
  }
  const std::string base = "link/" + config.name + "/";
  links_.push_back(std::make_unique<Link>(config, stream_seed(base + "a_to_b"), stream_seed(base + "b_to_a"),
                                          scheduler_, recorder_.get()));
  Link* link = links_.back().get();
  register_port(link->a());
  register_port(link->b());
  wire_order_.push_back("link:" + config.name);
  return link;
}

Result<Segment*, std::string> World::add_segment(const SegmentConfig& config) {
  if (auto valid = config.validate(); !valid.ok()) {
    return fail(valid.error());
  }
  std::vector<std::string> names;
  std::vector<std::uint64_t> seeds;
  for (const SegmentPortConfig& p : config.ports) {
    names.push_back(p.port.name);
    const std::string base = "segment/" + config.name + "/" + p.port.name + "/";
    seeds.push_back(stream_seed(base + "to_switch"));
    seeds.push_back(stream_seed(base + "from_switch"));
  }
  if (auto fresh = check_new_wire("segment", config.name, names); !fresh.ok()) {
    return fail(fresh.error());
  }
  segments_.push_back(std::make_unique<Segment>(config, seeds, scheduler_, recorder_.get()));
  Segment* segment = segments_.back().get();
  for (std::size_t i = 0; i < segment->port_count(); ++i) {
    register_port(segment->port(i));
  }
  wire_order_.push_back("segment:" + config.name);
  return segment;
}

Result<Unit, std::string> World::check_new_host(std::string_view name, Port& port) const {
  if (auto named = check_name("host.name", name); !named.ok()) {
    return named;
  }
  for (const auto& driver : hosts_) {
    if (driver->name() == name) {
      return fail("host.name: \"" + std::string(name) + "\" is already the name of a host");
    }
  }
  if (std::find(ports_.begin(), ports_.end(), &port) == ports_.end()) {
    return fail("host " + std::string(name) + ": port \"" + port.name() + "\" is not a port of this world");
  }
  if (port.attached()) {
    return fail("host " + std::string(name) + ": port \"" + port.name() + "\" already has a host");
  }
  return Unit{};
}

Result<Host*, std::string> World::add_host(std::string_view name, Port& port, std::unique_ptr<Host> host) {
  if (host == nullptr) {
    return fail("host " + std::string(name) + ": no host given");
  }
  if (auto ok = check_new_host(name, port); !ok.ok()) {
    return fail(ok.error());
  }
  hosts_.push_back(std::make_unique<HostDriver>(std::string(name), std::move(host), scheduler_));
  HostDriver& driver = *hosts_.back();
  port.attach(driver);
  // The first poll, so the host can start; it runs as an event, in order.
  driver.start(scheduler_.now());
  return &driver.host();
}

Port* World::find_port(std::string_view name) {
  for (Port* port : ports_) {
    if (port->name() == name) {
      return port;
    }
  }
  return nullptr;
}

Link* World::find_link(std::string_view name) {
  for (const auto& link : links_) {
    if (link->name() == name) {
      return link.get();
    }
  }
  return nullptr;
}

Segment* World::find_segment(std::string_view name) {
  for (const auto& segment : segments_) {
    if (segment->name() == name) {
      return segment.get();
    }
  }
  return nullptr;
}

Host* World::find_host(std::string_view name) {
  for (const auto& driver : hosts_) {
    if (driver->name() == name) {
      return &driver->host();
    }
  }
  return nullptr;
}

std::vector<const Channel*> World::channels() const {
  std::vector<const Channel*> all;
  std::size_t next_link = 0;
  std::size_t next_segment = 0;
  for (const std::string& wire : wire_order_) {
    if (wire.rfind("link:", 0) == 0) {
      const Link& link = *links_[next_link++];
      all.push_back(&link.a_to_b());
      all.push_back(&link.b_to_a());
    } else {
      const Segment& segment = *segments_[next_segment++];
      for (std::size_t i = 0; i < segment.port_count(); ++i) {
        all.push_back(&segment.to_switch(i));
        all.push_back(&segment.from_switch(i));
      }
    }
  }
  return all;
}

FaultCounters World::total_fault_counters() const {
  FaultCounters total;
  for (const Channel* channel : channels()) {
    const FaultCounters& c = channel->counters();
    total.offered += c.offered;
    total.delivered += c.delivered;
    total.lost += c.lost;
    total.burst_lost += c.burst_lost;
    total.queue_full += c.queue_full;
    total.too_big += c.too_big;
    total.partitioned += c.partitioned;
    total.duplicated += c.duplicated;
    total.reordered += c.reordered;
    total.corrupted += c.corrupted;
    total.queue_bytes_peak = std::max(total.queue_bytes_peak, c.queue_bytes_peak);
  }
  return total;
}

RunResult World::run_until(Instant limit) { return run_until(limit, nullptr); }

RunResult World::run_for(Duration duration) {
  const Instant now = scheduler_.now();
  const bool overflows = duration > Instant::never() - now;
  return run_until(overflows ? Instant::never() : now + duration);
}

RunResult World::run_until(Instant limit, const std::function<bool()>& done) {
  RunResult result;
  Instant last = scheduler_.now();
  std::uint64_t same_instant = 0;
  for (;;) {
    if (done && done()) {
      result.stop = RunStop::Done;
      break;
    }
    const Instant next = scheduler_.next_at();
    if (next == Instant::never() || next > limit) {
      if (limit == Instant::never()) {
        result.stop = RunStop::Idle;
      } else {
        (void)scheduler_.run_until(limit, 0);  // nothing due: moves the clock to the limit
        result.stop = RunStop::Deadline;
      }
      break;
    }
    if (result.events == config_.events_per_run_max) {
      result.stop = RunStop::EventBudget;
      break;
    }
    scheduler_.step();
    result.events++;
    if (scheduler_.now() == last) {
      if (++same_instant >= config_.same_instant_events_max) {
        result.stop = RunStop::Stalled;
        break;
      }
    } else {
      last = scheduler_.now();
      same_instant = 0;
    }
  }
  result.now = scheduler_.now();
  return result;
}

Result<Unit, std::string> World::flush_recording() {
  if (recorder_ == nullptr) {
    return Unit{};
  }
  return recorder_->flush();
}

namespace {

void field(std::string& out, const char* name, std::uint64_t value) {
  out += ' ';
  out += name;
  out += '=';
  out += std::to_string(value);
}

void report_channel(std::string& out, const Channel& channel) {
  const FaultCounters& c = channel.counters();
  out += "wire ";
  out += channel.name();
  field(out, "offered", c.offered);
  field(out, "delivered", c.delivered);
  field(out, "lost", c.lost);
  field(out, "burst_lost", c.burst_lost);
  field(out, "queue_full", c.queue_full);
  field(out, "too_big", c.too_big);
  field(out, "partitioned", c.partitioned);
  field(out, "duplicated", c.duplicated);
  field(out, "reordered", c.reordered);
  field(out, "corrupted", c.corrupted);
  field(out, "queue_bytes_peak", c.queue_bytes_peak);
  field(out, "in_flight", channel.in_flight());
  out += '\n';
}

void report_port(std::string& out, const Port& port) {
  const link::DeviceCounters c = port.counters();
  out += "port ";
  out += port.name();
  field(out, "tx_frames", c.tx_frames);
  field(out, "tx_bytes", c.tx_bytes);
  field(out, "tx_full", c.tx_full);
  field(out, "tx_invalid", c.tx_invalid);
  field(out, "rx_frames", c.rx_frames);
  field(out, "rx_bytes", c.rx_bytes);
  field(out, "rx_dropped", c.rx_dropped);
  field(out, "rx_invalid", c.rx_invalid);
  out += '\n';
}

}  // namespace

std::string World::counters_report() const {
  std::string out;
  std::size_t next_link = 0;
  std::size_t next_segment = 0;
  for (const std::string& wire : wire_order_) {
    if (wire.rfind("link:", 0) == 0) {
      const Link& link = *links_[next_link++];
      report_port(out, link.a());
      report_port(out, link.b());
      report_channel(out, link.a_to_b());
      report_channel(out, link.b_to_a());
      continue;
    }
    const Segment& segment = *segments_[next_segment++];
    for (std::size_t i = 0; i < segment.port_count(); ++i) {
      report_port(out, segment.port(i));
      report_channel(out, segment.to_switch(i));
      report_channel(out, segment.from_switch(i));
    }
    const SwitchCounters& s = segment.switch_counters();
    out += "switch ";
    out += segment.name();
    field(out, "frames_in", s.frames_in);
    field(out, "flooded", s.flooded);
    field(out, "forwarded", s.forwarded);
    field(out, "filtered", s.filtered);
    field(out, "copies_out", s.copies_out);
    field(out, "egress_full", s.egress_full);
    field(out, "learned", s.learned);
    field(out, "moved", s.moved);
    field(out, "table_full", s.table_full);
    field(out, "runts", s.runts);
    out += '\n';
  }
  return out;
}

}  // namespace tapstack::sim
