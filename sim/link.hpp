#pragma once
// Simulated wires.
//
//   Channel  one direction of a wire: frames pushed in are judged by the
//            direction's FaultModel (drop with a reason, or one or two copies
//            arriving at given instants, possibly with bits flipped), copied
//            into the channel's own pooled storage, and handed to the far end
//            when their instant comes, through the scheduler.
//   Link     a point-to-point cable: two ports and a channel each way.
//
// Scheduling: arrival instants are non-decreasing among the copies on time
// (jitter and the rate limiter keep order) and among the copies held back by
// reordering (a constant extra delay). So each group waits in a FIFO lane of
// the channel, with only the lane's head in the scheduler's queue, which
// stays small however many frames are in flight. Each copy reserves its
// place in the insertion order when it is pushed, so events run exactly as
// if every copy were queued on its own. A copy that would break a lane's
// order (none, with the fault model's guarantees) is queued on its own.
//
// Storage: a channel owns a pool of fixed-size slots (one frame copy each,
// slot size = the largest frame its sender can transmit), grown in chunks
// and recycled through a free list, so after warm-up no frame allocates. The
// number of copies in flight is bounded (in_flight_frames_max): beyond it
// the channel reports no room and the sending port refuses frames.
//
// Every fault is counted per channel and per kind (FaultCounters, from the
// fault model); the channel adds what happens after the verdict.

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sim/fault_model.hpp"
#include "sim/port.hpp"
#include "sim/scheduler.hpp"
#include "stack/base/bytes.hpp"
#include "stack/base/result.hpp"

namespace tapstack::sim {

class Recorder;

// Default bound of copies in flight per wire direction.
inline constexpr std::size_t kInFlightFramesMaxDefault = 65536;

class Channel final : public FrameSink, public EventTarget {
 public:
  // `name` is how logs and counters call the direction ("wan:a>b");
  // `faults` must validate; `frame_len_max` is the longest frame pushed
  // (longer pushes abort: the sending port validates lengths first).
  Channel(std::string name, const LinkFaults& faults, std::uint64_t seed, std::size_t frame_len_max,
          std::size_t in_flight_frames_max, Scheduler& scheduler, Recorder* recorder);
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;
  ~Channel() = default;

  // Where frames arrive: the far port, or a switch input.
  void connect(FrameSink& far_end) { far_end_ = &far_end; }

  // Room for another frame (and a possible duplicate of it).
  bool has_room() const override { return in_flight_ + 2 <= in_flight_frames_max_; }
  // Offers the frame to the fault model at `now` and schedules its copies.
  void push(Bytes frame, Instant now) override;
  // A copy's instant came: hands it to the far end and recycles its slot.
  void on_event(Instant now, std::uint64_t token) override;

  const std::string& name() const { return name_; }
  const FaultCounters& counters() const { return model_.counters(); }
  const LinkFaults& faults() const { return model_.faults(); }
  // Copies scheduled and not yet delivered.
  std::size_t in_flight() const { return in_flight_; }
  // Slots allocated so far (the pool's high-water mark).
  std::size_t slots_allocated() const { return meta_.size(); }
  // Pushes refused because the channel was full (a caller ignoring has_room()).
  std::uint64_t overflowed() const { return overflowed_; }

 private:
  static constexpr std::size_t kSlotsPerChunk = 64;
  struct SlotMeta {
    std::uint64_t frame_id;
    std::uint32_t len;
    std::uint8_t flags;
  };
  static constexpr std::uint8_t kDuplicate = 1;
  static constexpr std::uint8_t kCorrupted = 2;
  // A copy waiting in a lane.
  struct Pending {
    Instant at;
    std::uint64_t seq;  // its reserved place in the scheduler's insertion order
    std::uint32_t slot;
  };
  // Copies in arrival order, only the head queued in the scheduler.
  struct Lane {
    std::vector<Pending> ring;  // capacity a power of two (or 0)
    std::size_t head = 0;
    std::size_t size = 0;
    Instant tail_at;            // `at` of the newest copy (when size > 0)
  };
  // The token of a lane head's event: this bit plus the lane index (slot
  // tokens are below 2^32).
  static constexpr std::uint64_t kLaneHead = std::uint64_t{1} << 63;

  std::uint32_t allocate_slot();
  void lane_push(Lane& lane, Instant at, std::uint64_t seq, std::uint32_t slot);
  void deliver(std::uint32_t slot, Instant now);
  std::byte* slot_data(std::uint32_t slot) {
    return chunk_bases_[slot / kSlotsPerChunk] + (slot % kSlotsPerChunk) * slot_stride_;
  }

  std::string name_;
  FaultModel model_;
  std::size_t slot_len_;     // the longest frame a slot holds
  std::size_t slot_stride_;  // slot_len_ rounded up to a cache line: a small frame touches one line
  std::size_t in_flight_frames_max_;
  Scheduler& scheduler_;
  Recorder* recorder_;
  FrameSink* far_end_ = nullptr;
  std::vector<std::unique_ptr<std::byte[]>> chunks_;  // kSlotsPerChunk slots each; addresses stable
  std::vector<std::byte*> chunk_bases_;               // each chunk's first slot, cache-line aligned
  std::vector<SlotMeta> meta_;                        // one per slot ever allocated
  std::vector<std::uint32_t> free_slots_;
  std::array<Lane, 2> lanes_;  // 0: copies on time, 1: copies held back (reordered)
  std::size_t in_flight_ = 0;
  std::uint64_t overflowed_ = 0;
};

struct LinkConfig {
  std::string name;                  // unique among links and segments
  PortConfig a;                      // one end
  PortConfig b;                      // the other end
  LinkFaults a_to_b;                 // faults of frames sent by a
  LinkFaults b_to_a;                 // faults of frames sent by b
  std::size_t in_flight_frames_max = kInFlightFramesMaxDefault;  // per direction

  // An error naming the option ("link wan: a_to_b: loss_probability ...")
  // for a bad name, bad ports, equal port names, bad faults or a zero bound.
  Result<Unit, std::string> validate() const;
};

class Link {
 public:
  // `config` must validate. Seeds: one per direction (World derives them).
  Link(const LinkConfig& config, std::uint64_t seed_a_to_b, std::uint64_t seed_b_to_a, Scheduler& scheduler,
       Recorder* recorder);
  Link(const Link&) = delete;
  Link& operator=(const Link&) = delete;

  const std::string& name() const { return name_; }
  Port& a() { return a_; }
  Port& b() { return b_; }
  const Port& a() const { return a_; }
  const Port& b() const { return b_; }
  Channel& a_to_b() { return a_to_b_; }
  Channel& b_to_a() { return b_to_a_; }
  const Channel& a_to_b() const { return a_to_b_; }
  const Channel& b_to_a() const { return b_to_a_; }

 private:
  std::string name_;
  Port a_;
  Port b_;
  Channel a_to_b_;
  Channel b_to_a_;
};

// Validates one direction's faults, prefixing the fault model's message
// with `where` ("link wan: a_to_b").
Result<Unit, std::string> check_faults(std::string_view where, const LinkFaults& faults);

}  // namespace tapstack::sim
