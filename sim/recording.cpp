#include "sim/recording.hpp"

#include <cinttypes>
#include <cstdio>
#include <utility>

#include "sim/port.hpp"
#include "stack/wire/address.hpp"

namespace tapstack::sim {
namespace {

// Log bytes kept before they are written to the file.
constexpr std::size_t kLogFlushBytes = 1 << 20;

void append_mac(std::string& out, const wire::MacAddress& mac) {
  char text[18];
  std::snprintf(text, sizeof text, "%02x:%02x:%02x:%02x:%02x:%02x", mac.octets[0], mac.octets[1], mac.octets[2],
                mac.octets[3], mac.octets[4], mac.octets[5]);
  out += text;
}

void append_u64(std::string& out, std::uint64_t value) {
  char text[24];
  std::snprintf(text, sizeof text, "%" PRIu64, value);
  out += text;
}

void append_instant(std::string& out, Instant t) {
  // Virtual time never runs before the epoch in a world; print the sign anyway.
  const std::int64_t ns = t.ns();
  std::uint64_t magnitude = static_cast<std::uint64_t>(ns);
  if (ns < 0) {
    out += '-';
    magnitude = 0 - magnitude;
  }
  char text[32];
  std::snprintf(text, sizeof text, "%" PRIu64 ".%09" PRIu64, magnitude / 1'000'000'000, magnitude % 1'000'000'000);
  out += text;
}

}  // namespace

std::string format_instant(Instant t) {
  std::string out;
  append_instant(out, t);
  return out;
}

Result<Unit, std::string> RecordingConfig::validate() const {
  if (pcap_point.empty()) {
    return fail(std::string("recording.pcap_point: must name a port, or be \"*\" for every port"));
  }
  if (pcap_point != "*") {
    if (auto named = check_name("recording.pcap_point", pcap_point); !named.ok()) {
      return named;
    }
  }
  if (!pcap_path.empty() && pcap_path == log_path) {
    return fail(std::string("recording.log_path: must differ from recording.pcap_path"));
  }
  return Unit{};
}

Recorder::Recorder(const RecordingConfig& config)
    : config_(config), logging_(!config.log_path.empty() || config.log_to_memory) {}

Result<std::unique_ptr<Recorder>, std::string> Recorder::open(const RecordingConfig& config) {
  if (auto valid = config.validate(); !valid.ok()) {
    return fail(valid.error());
  }
  std::unique_ptr<Recorder> recorder(new Recorder(config));
  if (!config.pcap_path.empty()) {
    auto writer = capture::PcapWriter::open(config.pcap_path);
    if (!writer.ok()) {
      return fail(writer.error());
    }
    recorder->pcap_.emplace(std::move(*writer));
  }
  if (!config.log_path.empty()) {
    recorder->log_file_.open(config.log_path, std::ios::binary | std::ios::trunc);
    if (!recorder->log_file_) {
      return fail("recording.log_path: cannot create " + config.log_path);
    }
  }
  return recorder;
}

Recorder::~Recorder() { (void)flush(); }

bool Recorder::captures(std::string_view port) const {
  return pcap_.has_value() && (config_.pcap_point == "*" || config_.pcap_point == port);
}

void Recorder::capture(Bytes frame, Instant now) {
  if (!pcap_) {
    return;
  }
  auto written = pcap_->write(now, frame);
  if (!written.ok()) {
    write_error(written.error());
    return;
  }
  pcap_records_++;
}

void Recorder::write_error(std::string message) {
  write_errors_++;
  if (!first_write_error_) {
    first_write_error_ = std::move(message);
  }
}

void Recorder::begin_line(Instant now, std::string_view event, std::string_view where) {
  line_start_ = pending_.size();
  append_instant(pending_, now);
  pending_ += ' ';
  pending_ += event;
  pending_ += ' ';
  pending_ += where;
}

void Recorder::end_line() {
  pending_ += '\n';
  log_lines_++;
  if (config_.log_to_memory) {
    memory_.append(pending_, line_start_);
    if (!log_file_.is_open()) {
      pending_.clear();
      return;
    }
  }
  if (pending_.size() >= kLogFlushBytes) {
    (void)flush();
  }
}

std::uint64_t Recorder::sent(std::string_view wire, Bytes frame, Instant now) {
  const std::uint64_t id = next_frame_id_++;
  if (!logging_) {
    return id;
  }
  begin_line(now, "sent", wire);
  pending_ += " #";
  append_u64(pending_, id);
  pending_ += " len=";
  append_u64(pending_, frame.size());
  if (frame.size() >= 14) {
    pending_ += " src=";
    append_mac(pending_, wire::MacAddress::load(frame, 6));
    pending_ += " dst=";
    append_mac(pending_, wire::MacAddress::load(frame, 0));
    char type[16];
    std::snprintf(type, sizeof type, " type=%04x", load_be16(frame, 12));
    pending_ += type;
  }
  end_line();
  return id;
}

void Recorder::dropped(std::string_view wire, std::uint64_t id, DropReason reason, Instant now) {
  if (!logging_) {
    return;
  }
  begin_line(now, "dropped", wire);
  pending_ += " #";
  append_u64(pending_, id);
  pending_ += " reason=";
  pending_ += to_string(reason);
  end_line();
}

void Recorder::scheduled(std::string_view wire, std::uint64_t id, std::size_t copy, const Delivery& delivery,
                         Instant now) {
  if (!logging_) {
    return;
  }
  begin_line(now, delivery.duplicate ? "duplicated" : "delayed", wire);
  pending_ += " #";
  append_u64(pending_, id);
  pending_ += " until=";
  append_instant(pending_, delivery.at);
  if (delivery.reordered) {
    pending_ += " reordered";
  }
  end_line();
  if (delivery.flips > 0) {
    begin_line(now, "corrupted", wire);
    pending_ += " #";
    append_u64(pending_, id);
    pending_ += " copy=";
    append_u64(pending_, copy);
    pending_ += " bits=";
    for (std::size_t i = 0; i < delivery.flips && i < Delivery::kMaxFlips; ++i) {
      if (i > 0) {
        pending_ += ',';
      }
      append_u64(pending_, delivery.flipped_bits[i]);
    }
    end_line();
  }
}

void Recorder::delivered(std::string_view wire, std::uint64_t id, std::size_t len, bool duplicate, bool corrupted,
                         Instant now) {
  if (!logging_) {
    return;
  }
  begin_line(now, "delivered", wire);
  pending_ += " #";
  append_u64(pending_, id);
  pending_ += " len=";
  append_u64(pending_, len);
  if (duplicate) {
    pending_ += " duplicate";
  }
  if (corrupted) {
    pending_ += " corrupted";
  }
  end_line();
}

void Recorder::switched(std::string_view segment, std::string_view in_port, Bytes frame, SwitchAction action,
                        std::string_view out, std::size_t copies, Instant now) {
  if (!logging_) {
    return;
  }
  begin_line(now, "switch", segment);
  pending_ += " in=";
  pending_ += in_port;
  if (frame.size() >= 6) {
    pending_ += " dst=";
    append_mac(pending_, wire::MacAddress::load(frame, 0));
  }
  switch (action) {
    case SwitchAction::Flood:
      pending_ += " flood out=";
      append_u64(pending_, copies);
      break;
    case SwitchAction::Forward:
      pending_ += " forward out=";
      pending_ += out;
      break;
    case SwitchAction::Filtered:
      pending_ += " filtered";
      break;
  }
  end_line();
}

void Recorder::port_dropped(std::string_view port, std::string_view reason, std::size_t len, Instant now) {
  if (!logging_) {
    return;
  }
  begin_line(now, "port-drop", port);
  pending_ += " reason=";
  pending_ += reason;
  pending_ += " len=";
  append_u64(pending_, len);
  end_line();
}

void Recorder::note(std::string_view text, Instant now) {
  if (!logging_) {
    return;
  }
  begin_line(now, "note", text);
  end_line();
}

Result<Unit, std::string> Recorder::flush() {
  if (log_file_.is_open() && !pending_.empty()) {
    log_file_.write(pending_.data(), static_cast<std::streamsize>(pending_.size()));
    log_file_.flush();
    pending_.clear();
    if (!log_file_) {
      write_error("recording.log_path: write to " + config_.log_path + " failed");
    }
  }
  if (pcap_) {
    if (auto flushed = pcap_->flush(); !flushed.ok()) {
      write_error(flushed.error());
    }
  }
  if (first_write_error_) {
    return fail(*first_write_error_);
  }
  return Unit{};
}

}  // namespace tapstack::sim
