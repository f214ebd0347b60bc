#pragma once
// A shared Ethernet segment: N ports joined by a learning switch (IEEE
// 802.1D transparent bridging, without spanning tree: one switch, no loops).
//
// Each port hangs on its own cable, with faults per direction: to_switch
// (frames the port sends) and from_switch (frames the switch sends it). The
// switch itself forwards instantly; all delay is on the cables.
//
// On every frame arriving from port i the switch
//   1. learns: the frame's unicast source address is reachable through i
//      (a table of at most mac_table_entries_max addresses; when full, new
//      addresses are not learned and frames to them are flooded);
//   2. forwards: a broadcast, multicast or unknown destination is flooded to
//      every port but i; a known destination goes only to its port; a known
//      destination on port i itself is filtered (dropped), as 802.1D does.
// A cable with no room for a copy drops it (egress_full). Frames are switched
// as they arrive, corrupted or not: corruption models the errors the Ethernet
// FCS missed, which a real switch forwards too (and may learn a garbled
// source address from).
//
// Addresses are never aged out: a host that moves is relearned by its next frame.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "sim/fault_model.hpp"
#include "sim/link.hpp"
#include "sim/port.hpp"
#include "sim/scheduler.hpp"
#include "stack/base/result.hpp"
#include "stack/wire/address.hpp"

namespace tapstack::sim {

class Recorder;

struct SegmentPortConfig {
  PortConfig port;
  LinkFaults to_switch;    // faults of frames the port sends
  LinkFaults from_switch;  // faults of frames the switch sends the port
};

struct SegmentConfig {
  std::string name;                          // unique among links and segments
  std::vector<SegmentPortConfig> ports;      // at least two, names distinct
  std::size_t mac_table_entries_max = 1024;  // learned addresses, at least 1
  std::size_t in_flight_frames_max = kInFlightFramesMaxDefault;  // per cable direction
  // Largest number of ports on one segment (a bound, like every queue's).
  static constexpr std::size_t kPortsMax = 256;

  // An error naming the option ("segment lan: ports[2].to_switch: ...").
  Result<Unit, std::string> validate() const;
};

struct SwitchCounters {
  std::uint64_t frames_in = 0;     // frames that reached the switch
  std::uint64_t flooded = 0;       // frames flooded (broadcast, multicast, unknown destination)
  std::uint64_t forwarded = 0;     // frames sent to exactly one learned port
  std::uint64_t filtered = 0;      // frames whose destination sits on the port they came from
  std::uint64_t copies_out = 0;    // copies pushed onto cables (flooded copies included)
  std::uint64_t egress_full = 0;   // copies dropped: the output cable had no room
  std::uint64_t learned = 0;       // addresses added to the table
  std::uint64_t moved = 0;         // addresses seen on a different port than learned
  std::uint64_t table_full = 0;    // addresses not learned because the table was full
  std::uint64_t runts = 0;         // frames shorter than an Ethernet header (never, from ports)
};

class Segment {
 public:
  // `config` must validate. `seeds` holds two seeds per port, in port order:
  // to_switch then from_switch (World derives them).
  Segment(const SegmentConfig& config, std::span<const std::uint64_t> seeds, Scheduler& scheduler,
          Recorder* recorder);
  Segment(const Segment&) = delete;
  Segment& operator=(const Segment&) = delete;

  const std::string& name() const { return name_; }
  std::size_t port_count() const { return members_.size(); }
  // Port i (in configuration order). Precondition: i < port_count().
  Port& port(std::size_t i) { return members_.at(i)->port; }
  const Port& port(std::size_t i) const { return members_.at(i)->port; }
  Channel& to_switch(std::size_t i) { return members_.at(i)->to_switch; }
  Channel& from_switch(std::size_t i) { return members_.at(i)->from_switch; }
  const Channel& to_switch(std::size_t i) const { return members_.at(i)->to_switch; }
  const Channel& from_switch(std::size_t i) const { return members_.at(i)->from_switch; }

  const SwitchCounters& switch_counters() const { return counters_; }
  // The port the switch learned `mac` on; nullopt if unknown.
  std::optional<std::size_t> learned_port(const wire::MacAddress& mac) const;
  std::size_t mac_table_size() const { return table_.size(); }

 private:
  // The switch's input from port `index`: the far end of its to_switch cable.
  class Ingress final : public FrameSink {
   public:
    Ingress(Segment& segment, std::size_t index) : segment_(segment), index_(index) {}
    bool has_room() const override { return true; }
    void push(Bytes frame, Instant now) override { segment_.switch_frame(index_, frame, now); }

   private:
    Segment& segment_;
    std::size_t index_;
  };
  struct Member {
    Member(Segment& segment, std::size_t index, const SegmentConfig& config, std::uint64_t seed_in,
           std::uint64_t seed_out, Scheduler& scheduler, Recorder* recorder);
    Port port;
    Channel to_switch;
    Channel from_switch;
    Ingress ingress;
  };

  void switch_frame(std::size_t in, Bytes frame, Instant now);
  void learn(const wire::MacAddress& source, std::size_t in);
  bool egress(std::size_t out, Bytes frame, Instant now);
  static std::uint64_t key(const wire::MacAddress& mac);

  std::string name_;
  std::size_t mac_table_entries_max_;
  Recorder* recorder_;
  std::vector<std::unique_ptr<Member>> members_;
  std::unordered_map<std::uint64_t, std::size_t> table_;  // MAC (48 bits) -> port index
  SwitchCounters counters_;
};

}  // namespace tapstack::sim
