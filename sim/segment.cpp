#include "sim/segment.hpp"

#include <cstdlib>

#include "sim/recording.hpp"

namespace tapstack::sim {

Result<Unit, std::string> SegmentConfig::validate() const {
  if (auto named = check_name("segment.name", name); !named.ok()) {
    return named;
  }
  const std::string where = "segment " + name + ": ";
  if (ports.size() < 2) {
    return fail(where + "ports: needs at least 2 ports, got " + std::to_string(ports.size()));
  }
  if (ports.size() > kPortsMax) {
    return fail(where + "ports: at most " + std::to_string(kPortsMax) + " ports, got " +
                std::to_string(ports.size()));
  }
  for (std::size_t i = 0; i < ports.size(); ++i) {
    const std::string option = where + "ports[" + std::to_string(i) + "]";
    if (auto ok = ports[i].port.validate(option); !ok.ok()) {
      return ok;
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (ports[j].port.name == ports[i].port.name) {
        return fail(option + ".name: \"" + ports[i].port.name + "\" is also the name of ports[" +
                    std::to_string(j) + "]");
      }
      if (ports[j].port.effective_mac() == ports[i].port.effective_mac()) {
        return fail(option + ".mac: " + ports[i].port.effective_mac().to_string() + " is also the address of ports[" +
                    std::to_string(j) + "]");
      }
    }
    if (auto ok = check_faults(option + ".to_switch", ports[i].to_switch); !ok.ok()) {
      return ok;
    }
    if (auto ok = check_faults(option + ".from_switch", ports[i].from_switch); !ok.ok()) {
      return ok;
    }
  }
  if (mac_table_entries_max == 0) {
    return fail(where + "mac_table_entries_max: must be at least 1");
  }
  if (in_flight_frames_max < 2) {
    return fail(where + "in_flight_frames_max: must be at least 2, got " + std::to_string(in_flight_frames_max));
  }
  return Unit{};
}

namespace {

// The largest frame any port of the segment can send: the switch forwards
// whatever arrives, so every from_switch cable must hold it.
std::size_t largest_frame(const SegmentConfig& config) {
  std::size_t largest = 0;
  for (const SegmentPortConfig& p : config.ports) {
    const std::size_t len = p.port.mtu + link::kEthernetHeaderLen;
    largest = len > largest ? len : largest;
  }
  return largest;
}

}  // namespace

Segment::Member::Member(Segment& segment, std::size_t index, const SegmentConfig& config, std::uint64_t seed_in,
                        std::uint64_t seed_out, Scheduler& scheduler, Recorder* recorder)
    : port(config.ports[index].port, scheduler, recorder),
      to_switch(config.name + ":" + config.ports[index].port.name + ">switch", config.ports[index].to_switch, seed_in,
                config.ports[index].port.mtu + link::kEthernetHeaderLen, config.in_flight_frames_max, scheduler,
                recorder),
      from_switch(config.name + ":switch>" + config.ports[index].port.name, config.ports[index].from_switch,
                  seed_out, largest_frame(config), config.in_flight_frames_max, scheduler, recorder),
      ingress(segment, index) {
  port.connect(to_switch);
  to_switch.connect(ingress);
  from_switch.connect(port);
}

Segment::Segment(const SegmentConfig& config, std::span<const std::uint64_t> seeds, Scheduler& scheduler,
                 Recorder* recorder)
    : name_(config.name), mac_table_entries_max_(config.mac_table_entries_max), recorder_(recorder) {
  if (!config.validate().ok() || seeds.size() != 2 * config.ports.size()) {
    std::abort();
  }
  members_.reserve(config.ports.size());
  for (std::size_t i = 0; i < config.ports.size(); ++i) {
    members_.push_back(std::make_unique<Member>(*this, i, config, seeds[2 * i], seeds[2 * i + 1], scheduler, recorder));
  }
  table_.reserve(config.mac_table_entries_max < 4096 ? config.mac_table_entries_max : 4096);
}

std::uint64_t Segment::key(const wire::MacAddress& mac) {
  std::uint64_t k = 0;
  for (const std::uint8_t octet : mac.octets) {
    k = (k << 8) | octet;
  }
  return k;
}

std::optional<std::size_t> Segment::learned_port(const wire::MacAddress& mac) const {
  const auto it = table_.find(key(mac));
  if (it == table_.end()) {
    return std::nullopt;
  }
  return it->second;
}

void Segment::learn(const wire::MacAddress& source, std::size_t in) {
  // IEEE 802.1D 7.8: only unicast source addresses are learned.
  if (source.is_multicast()) {
    return;
  }
  const std::uint64_t k = key(source);
  const auto it = table_.find(k);
  if (it != table_.end()) {
    if (it->second != in) {
      it->second = in;
      counters_.moved++;
    }
    return;
  }
  if (table_.size() >= mac_table_entries_max_) {
    counters_.table_full++;
    return;
  }
  table_.emplace(k, in);
  counters_.learned++;
}

bool Segment::egress(std::size_t out, Bytes frame, Instant now) {
  Channel& cable = members_[out]->from_switch;
  if (!cable.has_room()) {
    counters_.egress_full++;
    return false;
  }
  counters_.copies_out++;
  cable.push(frame, now);
  return true;
}

void Segment::switch_frame(std::size_t in, Bytes frame, Instant now) {
  counters_.frames_in++;
  if (frame.size() < link::kEthernetHeaderLen) {
    counters_.runts++;
    return;
  }
  const wire::MacAddress destination = wire::MacAddress::load(frame, 0);
  learn(wire::MacAddress::load(frame, 6), in);
  std::optional<std::size_t> out;
  if (destination.is_unicast()) {
    out = learned_port(destination);
  }
  if (!out) {
    counters_.flooded++;
    const std::size_t copies = members_.size() - 1;
    if (recorder_ != nullptr) {
      recorder_->switched(name_, members_[in]->port.name(), frame, Recorder::SwitchAction::Flood, {}, copies, now);
    }
    for (std::size_t i = 0; i < members_.size(); ++i) {
      if (i != in) {
        egress(i, frame, now);
      }
    }
    return;
  }
  if (*out == in) {
    counters_.filtered++;
    if (recorder_ != nullptr) {
      recorder_->switched(name_, members_[in]->port.name(), frame, Recorder::SwitchAction::Filtered, {}, 0, now);
    }
    return;
  }
  counters_.forwarded++;
  if (recorder_ != nullptr) {
    recorder_->switched(name_, members_[in]->port.name(), frame, Recorder::SwitchAction::Forward,
                        members_[*out]->port.name(), 1, now);
  }
  egress(*out, frame, now);
}

}  // namespace tapstack::sim
