#pragma once
// A simulated world: the scheduler (virtual clock), the master seed, and the
// links, segments and hosts built on them. Everything is deterministic: the
// same configuration, built in the same order, gives the same run to the byte.
//
// Seeds. The master seed is the only one; every random stream is derived
// from it with derive_seed(master, stream_id(stable name)), the stable name
// being fixed by what it seeds:
//   host/<host>                              a host (HostEnv::seed)
//   link/<link>/a_to_b, link/<link>/b_to_a   a link direction
//   segment/<segment>/<port>/to_switch       a segment cable direction
//   segment/<segment>/<port>/from_switch
// so adding, removing or reordering a host or a link changes no other's draws.
//
// Driving hosts (sim/host.hpp): a host is polled when added; a frame
// delivered to its port is passed to receive() then poll(); the instant poll()
// returns is when it is polled next (only the latest deadline counts).
//
// Bounds: a run stops after events_per_run_max events, and when
// same_instant_events_max events run without the clock moving (a livelock:
// hosts asking to be polled again "now" forever); the run result says which.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sim/host.hpp"
#include "sim/link.hpp"
#include "sim/port.hpp"
#include "sim/recording.hpp"
#include "sim/scheduler.hpp"
#include "sim/segment.hpp"
#include "stack/base/result.hpp"
#include "stack/base/time.hpp"

namespace tapstack::sim {

struct WorldConfig {
  std::uint64_t seed = 1;                              // the master seed
  Instant start = Instant::epoch();                    // the virtual clock's first instant
  std::uint64_t events_per_run_max = 100'000'000;      // a run stops after this many events
  std::uint64_t same_instant_events_max = 1'000'000;   // ... or this many without the clock moving
  RecordingConfig recording;                           // pcap and event log (off by default)

  // An error naming the option (world.events_per_run_max, world.start, recording.*).
  Result<Unit, std::string> validate() const;
};

// Why a run returned.
enum class RunStop : std::uint8_t {
  Done,         // the `done` predicate became true
  Deadline,     // every event up to the limit ran; the clock is at the limit
  Idle,         // nothing left to run (limit Instant::never())
  EventBudget,  // events_per_run_max events ran
  Stalled,      // same_instant_events_max events ran at one instant (livelock)
};
const char* to_string(RunStop stop);

struct RunResult {
  RunStop stop = RunStop::Deadline;
  std::uint64_t events = 0;  // events this run
  Instant now;               // the clock when the run returned

  // The run ended because of a bound, not because it was finished.
  bool bounded() const { return stop == RunStop::EventBudget || stop == RunStop::Stalled; }
};

class World {
 public:
  // A world on `config` (validated; the recording files are opened now).
  static Result<std::unique_ptr<World>, std::string> create(WorldConfig config);
  World(const World&) = delete;
  World& operator=(const World&) = delete;
  // Flushes the recording.
  ~World();

  // ---- building ----
  // Adds a point-to-point link. Errors name the option; names of links and
  // segments, and of ports, must be unique in the world.
  Result<Link*, std::string> add_link(const LinkConfig& config);
  // Adds a segment (learning switch) with its ports.
  Result<Segment*, std::string> add_segment(const SegmentConfig& config);
  // Adds a host driven through `port` (a port of this world without a host)
  // and polls it at now(). The host must transmit through `port` (it was
  // typically constructed with it, and with host_seed(name)).
  Result<Host*, std::string> add_host(std::string_view name, Port& port, std::unique_ptr<Host> host);
  // Constructs H(HostEnv{port, host_seed(name), name}, args...) and adds it.
  template <class H, class... Args>
  Result<H*, std::string> emplace_host(std::string_view name, Port& port, Args&&... args) {
    if (auto ok = check_new_host(name, port); !ok.ok()) {
      return fail(ok.error());
    }
    auto host = std::make_unique<H>(HostEnv{port, host_seed(name), name}, std::forward<Args>(args)...);
    H* raw = host.get();
    if (auto added = add_host(name, port, std::move(host)); !added.ok()) {
      return fail(added.error());
    }
    return raw;
  }

  // ---- seeds ----
  std::uint64_t seed() const { return config_.seed; }
  // The seed of the host named `name`.
  std::uint64_t host_seed(std::string_view name) const;
  // The seed of the stream with the stable name `stable_name` (see above).
  std::uint64_t stream_seed(std::string_view stable_name) const;
  // The stream id of a stable name: FNV-1a 64 of its bytes.
  static std::uint64_t stream_id(std::string_view stable_name);

  // ---- looking up ----
  Port* find_port(std::string_view name);
  Link* find_link(std::string_view name);
  Segment* find_segment(std::string_view name);
  Host* find_host(std::string_view name);
  // Every wire direction, in the order they were added.
  std::vector<const Channel*> channels() const;
  // The sum of every wire direction's counters (queue_bytes_peak: the largest).
  FaultCounters total_fault_counters() const;

  // ---- running ----
  // Runs every event due at or before `limit` (see RunStop).
  RunResult run_until(Instant limit);
  // run_until(now() + duration).
  RunResult run_for(Duration duration);
  // Like run_until(limit), but stops (Done) as soon as done() is true;
  // done() is checked before the first event and after each one.
  RunResult run_until(Instant limit, const std::function<bool()>& done);

  Instant now() const { return scheduler_.now(); }
  Scheduler& scheduler() { return scheduler_; }
  const WorldConfig& config() const { return config_; }

  // ---- reporting ----
  // Null unless the configuration asked for a recording.
  Recorder* recorder() { return recorder_.get(); }
  // Writes the buffered pcap records and log lines to their files.
  Result<Unit, std::string> flush_recording();
  // Every counter of every wire direction, port and switch, one line each,
  // in the order they were added: what `netstat -s` is to a kernel.
  std::string counters_report() const;

 private:
  // Drives one host: the receiver of its port, and the target of its poll event.
  class HostDriver final : public PortReceiver, public EventTarget {
   public:
    HostDriver(std::string name, std::unique_ptr<Host> host, Scheduler& scheduler)
        : name_(std::move(name)), host_(std::move(host)), scheduler_(scheduler) {}
    void port_received(Bytes frame, Instant now) override;
    void on_event(Instant now, std::uint64_t token) override;
    // Polls the host at `now` (through the scheduler, after what is due now).
    void start(Instant now) { reschedule(now, now); }
    void poll(Instant now);
    const std::string& name() const { return name_; }
    Host& host() { return *host_; }

   private:
    void reschedule(Instant next, Instant now);

    std::string name_;
    std::unique_ptr<Host> host_;
    Scheduler& scheduler_;
    std::uint64_t generation_ = 0;          // the token of the one live poll event
    Instant scheduled_ = Instant::never();  // when that event fires; never: none
  };

  explicit World(WorldConfig config);
  Result<Unit, std::string> check_new_host(std::string_view name, Port& port) const;
  Result<Unit, std::string> check_new_wire(std::string_view kind, std::string_view name,
                                           const std::vector<std::string>& port_names) const;
  void register_port(Port& port);

  WorldConfig config_;
  Scheduler scheduler_;
  std::unique_ptr<Recorder> recorder_;
  std::vector<std::unique_ptr<Link>> links_;
  std::vector<std::unique_ptr<Segment>> segments_;
  std::vector<Port*> ports_;                             // every port, in order added
  std::vector<std::string> wire_order_;                  // "link:<name>" / "segment:<name>", in order added
  std::vector<std::unique_ptr<HostDriver>> hosts_;
};

}  // namespace tapstack::sim
