#include "sim/link.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "sim/recording.hpp"

namespace tapstack::sim {
namespace {

constexpr std::size_t kCacheLine = 64;

// Copies a frame into a slot. Small frames (most of a simulation's traffic:
// ACKs, pings, 64-byte floods) are copied in 8-byte words inline, without
// the library call memcpy of an unknown length costs.
void copy_frame(std::byte* to, Bytes frame) {
  const std::size_t len = frame.size();
  if (len > 256) {
    std::memcpy(to, frame.data(), len);
    return;
  }
  std::size_t i = 0;
  for (; i + 8 <= len; i += 8) {
    std::memcpy(to + i, frame.data() + i, 8);
  }
  for (; i < len; ++i) {
    to[i] = frame[i];
  }
}

}  // namespace

// ---- Channel ----

Channel::Channel(std::string name, const LinkFaults& faults, std::uint64_t seed, std::size_t frame_len_max,
                 std::size_t in_flight_frames_max, Scheduler& scheduler, Recorder* recorder)
    : name_(std::move(name)),
      model_(faults, seed),
      slot_len_(frame_len_max),
      slot_stride_((frame_len_max + kCacheLine - 1) / kCacheLine * kCacheLine),
      in_flight_frames_max_(in_flight_frames_max),
      scheduler_(scheduler),
      recorder_(recorder) {
  if (frame_len_max == 0 || in_flight_frames_max < 2) {
    std::abort();
  }
}

std::uint32_t Channel::allocate_slot() {
  if (!free_slots_.empty()) {
    const std::uint32_t slot = free_slots_.back();
    free_slots_.pop_back();
    return slot;
  }
  // Warm-up only: the pool grows until it holds the most copies ever in flight.
  const auto slot = static_cast<std::uint32_t>(meta_.size());
  if (slot % kSlotsPerChunk == 0) {
    chunks_.emplace_back(new std::byte[kSlotsPerChunk * slot_stride_ + kCacheLine]);
    const auto address = reinterpret_cast<std::uintptr_t>(chunks_.back().get());
    chunk_bases_.push_back(chunks_.back().get() + (kCacheLine - address % kCacheLine) % kCacheLine);
    // The free list can then hold every slot: recycling never allocates.
    // (Geometric growth: warm-up stays linear in the pool size.)
    const std::size_t wanted = slot + kSlotsPerChunk;
    if (free_slots_.capacity() < wanted) {
      free_slots_.reserve(std::max(wanted, 2 * free_slots_.capacity()));
    }
  }
  meta_.push_back(SlotMeta{0, 0, 0});
  return slot;
}

void Channel::push(Bytes frame, Instant now) {
  if (frame.size() > slot_len_) {
    std::abort();  // the sending port validates lengths against its MTU first
  }
  if (!has_room()) {
    overflowed_++;
    return;
  }
  const Verdict verdict = model_.offer(now, frame.size());
  const std::uint64_t id = recorder_ != nullptr ? recorder_->sent(name_, frame, now) : 0;
  if (verdict.dropped != DropReason::None) {
    if (recorder_ != nullptr) {
      recorder_->dropped(name_, id, verdict.dropped, now);
    }
    return;
  }
  const std::size_t copies = verdict.count <= verdict.deliveries.size() ? verdict.count : verdict.deliveries.size();
  for (std::size_t i = 0; i < copies; ++i) {
    const Delivery& delivery = verdict.deliveries[i];
    const std::uint32_t slot = allocate_slot();
    std::byte* data = slot_data(slot);
    copy_frame(data, frame);
    std::uint8_t flags = delivery.duplicate ? kDuplicate : 0;
    const std::size_t flips = delivery.flips <= Delivery::kMaxFlips ? delivery.flips : Delivery::kMaxFlips;
    for (std::size_t f = 0; f < flips; ++f) {
      // Bit 0 is the most significant bit of byte 0, as on the wire.
      const std::uint32_t bit = delivery.flipped_bits[f];
      if (bit < frame.size() * 8) {
        data[bit / 8] ^= static_cast<std::byte>(0x80u >> (bit % 8));
        flags |= kCorrupted;
      }
    }
    meta_[slot] = SlotMeta{id, static_cast<std::uint32_t>(frame.size()), flags};
    in_flight_++;
    // Reordered copies have their own lane: in the main one, a copy held
    // back would hold back every copy behind it.
    Lane& lane = lanes_[delivery.reordered ? 1 : 0];
    if (delivery.at >= now && (lane.size == 0 || delivery.at >= lane.tail_at)) {
      lane_push(lane, delivery.at, scheduler_.reserve_seq(), slot);
    } else {
      scheduler_.schedule_at(delivery.at, *this, slot);
    }
    if (recorder_ != nullptr) {
      recorder_->scheduled(name_, id, i, delivery, now);
    }
  }
}

void Channel::lane_push(Lane& lane, Instant at, std::uint64_t seq, std::uint32_t slot) {
  if (lane.size == lane.ring.size()) {
    // Warm-up only: double the ring, oldest first.
    std::vector<Pending> grown(lane.ring.empty() ? 64 : 2 * lane.ring.size());
    for (std::size_t i = 0; i < lane.size; ++i) {
      grown[i] = lane.ring[(lane.head + i) & (lane.ring.size() - 1)];
    }
    lane.ring = std::move(grown);
    lane.head = 0;
  }
  Pending& tail = lane.ring[(lane.head + lane.size) & (lane.ring.size() - 1)];
  tail.at = at;
  tail.seq = seq;
  tail.slot = slot;
  lane.tail_at = at;
  lane.size++;
  if (lane.size == 1) {
    scheduler_.schedule_reserved(at, seq, *this, kLaneHead | static_cast<std::uint64_t>(&lane - lanes_.data()));
  }
}

void Channel::on_event(Instant now, std::uint64_t token) {
  if ((token & kLaneHead) == 0) {
    deliver(static_cast<std::uint32_t>(token), now);
    return;
  }
  const std::uint64_t index = token & ~kLaneHead;
  Lane& lane = lanes_[index];
  const std::uint32_t slot = lane.ring[lane.head].slot;
  lane.head = (lane.head + 1) & (lane.ring.size() - 1);
  lane.size--;
  // The next head is queued before delivering: a push during delivery then
  // finds the lane's state consistent.
  if (lane.size > 0) {
    const Pending& next = lane.ring[lane.head];
    scheduler_.schedule_reserved(next.at, next.seq, *this, token);
  }
  deliver(slot, now);
}

void Channel::deliver(std::uint32_t slot, Instant now) {
  const SlotMeta meta = meta_[slot];
  const Bytes frame{slot_data(slot), meta.len};
  if (recorder_ != nullptr) {
    recorder_->delivered(name_, meta.frame_id, meta.len, (meta.flags & kDuplicate) != 0,
                         (meta.flags & kCorrupted) != 0, now);
  }
  in_flight_--;
  if (far_end_ == nullptr) {
    std::abort();  // a channel is always connected before frames flow
  }
  far_end_->push(frame, now);
  // Recycled only now: the far end reads the copy during push().
  free_slots_.push_back(slot);
}

// ---- configuration ----

Result<Unit, std::string> check_faults(std::string_view where, const LinkFaults& faults) {
  auto valid = faults.validate();
  if (!valid.ok()) {
    return fail(std::string(where) + "." + valid.error());
  }
  return Unit{};
}

Result<Unit, std::string> LinkConfig::validate() const {
  if (auto named = check_name("link.name", name); !named.ok()) {
    return named;
  }
  const std::string where = "link " + name + ": ";
  if (auto ok = a.validate(where + "a"); !ok.ok()) {
    return ok;
  }
  if (auto ok = b.validate(where + "b"); !ok.ok()) {
    return ok;
  }
  if (a.name == b.name) {
    return fail(where + "b.name: \"" + b.name + "\" is also the name of port a");
  }
  if (a.effective_mac() == b.effective_mac()) {
    return fail(where + "b.mac: " + b.effective_mac().to_string() + " is also the address of port a");
  }
  if (auto ok = check_faults(where + "a_to_b", a_to_b); !ok.ok()) {
    return ok;
  }
  if (auto ok = check_faults(where + "b_to_a", b_to_a); !ok.ok()) {
    return ok;
  }
  if (in_flight_frames_max < 2) {
    return fail(where + "in_flight_frames_max: must be at least 2, got " + std::to_string(in_flight_frames_max));
  }
  return Unit{};
}

// ---- Link ----

Link::Link(const LinkConfig& config, std::uint64_t seed_a_to_b, std::uint64_t seed_b_to_a, Scheduler& scheduler,
           Recorder* recorder)
    : name_(config.name),
      a_(config.a, scheduler, recorder),
      b_(config.b, scheduler, recorder),
      a_to_b_(config.name + ":" + config.a.name + ">" + config.b.name, config.a_to_b, seed_a_to_b,
              config.a.mtu + link::kEthernetHeaderLen, config.in_flight_frames_max, scheduler, recorder),
      b_to_a_(config.name + ":" + config.b.name + ">" + config.a.name, config.b_to_a, seed_b_to_a,
              config.b.mtu + link::kEthernetHeaderLen, config.in_flight_frames_max, scheduler, recorder) {
  if (!config.validate().ok()) {
    std::abort();
  }
  a_.connect(a_to_b_);
  a_to_b_.connect(b_);
  b_.connect(b_to_a_);
  b_to_a_.connect(a_);
}

}  // namespace tapstack::sim
