// The ARP cache under random sequences of enqueue, learn, lookup and poll at
// random (non-decreasing) times and random limits: every bound holds after
// every step, every datagram is accounted for (released, dropped with a
// reason, or still queued), poll() has work exactly from next_deadline() on,
// and released datagrams come out once each, for their own next hop, oldest
// first.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "stack/link/arp_cache.hpp"

namespace tapstack::link {
namespace {

using wire::Ipv4Address;
using wire::MacAddress;

constexpr Ipv4Address kOwn = Ipv4Address::from_octets(10, 0, 0, 1);
// Index 0 is our own address, 7 an invalid one; the rest are neighbors.
constexpr std::array<Ipv4Address, 8> kHosts = {
    kOwn,
    Ipv4Address::from_octets(10, 0, 0, 2),
    Ipv4Address::from_octets(10, 0, 0, 3),
    Ipv4Address::from_octets(10, 0, 0, 4),
    Ipv4Address::from_octets(10, 0, 0, 5),
    Ipv4Address::from_octets(10, 0, 0, 6),
    Ipv4Address::from_octets(192, 168, 1, 1),
    Ipv4Address::any(),
};

enum class OpKind : std::uint8_t { Enqueue, Learn, Lookup, PollAtDeadline, PollAt };

struct Op {
  OpKind kind = OpKind::Enqueue;
  std::size_t host = 0;
  std::size_t len = 8;
  std::uint8_t mac = 0;
  bool create = false;
  std::int64_t gap_ms = 0;  // time advanced before the op
};

rc::Gen<Op> op_gen() {
  return rc::gen::build<Op>(
      rc::gen::set(&Op::kind, rc::gen::element(OpKind::Enqueue, OpKind::Enqueue, OpKind::Enqueue, OpKind::Learn,
                                               OpKind::Lookup, OpKind::PollAtDeadline, OpKind::PollAt)),
      rc::gen::set(&Op::host, rc::gen::weightedOneOf<std::size_t>({{1, rc::gen::just<std::size_t>(0)},
                                                                   {12, rc::gen::inRange<std::size_t>(1, 7)},
                                                                   {1, rc::gen::just<std::size_t>(7)}})),
      rc::gen::set(&Op::len, rc::gen::inRange<std::size_t>(8, 700)),
      rc::gen::set(&Op::mac, rc::gen::inRange<std::uint8_t>(0, 4)),
      rc::gen::set(&Op::create, rc::gen::arbitrary<bool>()),
      rc::gen::set(&Op::gap_ms, rc::gen::weightedOneOf<std::int64_t>({{3, rc::gen::just<std::int64_t>(0)},
                                                                      {4, rc::gen::inRange<std::int64_t>(0, 400)},
                                                                      {1, rc::gen::inRange<std::int64_t>(0, 5000)}})));
}

ArpLimits limits_gen() {
  ArpLimits limits;
  limits.cache_entries_max = *rc::gen::inRange<std::size_t>(0, 7);
  limits.entry_lifetime = Duration::milliseconds(*rc::gen::inRange<std::int64_t>(0, 5000));
  limits.request_interval = Duration::milliseconds(*rc::gen::inRange<std::int64_t>(0, 2000));
  limits.request_attempts_max = *rc::gen::inRange<std::uint32_t>(0, 5);
  limits.pending_packets_per_neighbor_max = *rc::gen::inRange<std::size_t>(0, 6);
  limits.pending_bytes_total_max = *rc::gen::inRange<std::size_t>(0, 2500);
  return limits;
}

MacAddress mac_of(std::size_t host, std::uint8_t variant) {
  return MacAddress{{0x02, 0x00, 0x00, 0x00, static_cast<std::uint8_t>(host), variant}};
}

// A datagram that names its next hop and carries a serial number.
ByteVector make_datagram(std::size_t host, std::uint32_t serial, std::size_t len) {
  ByteVector d(len, std::byte{0x5a});
  d[0] = std::byte{static_cast<std::uint8_t>(host)};
  store_be32(d, 1, serial);
  return d;
}
std::size_t host_of(const ByteVector& d) { return static_cast<std::size_t>(d[0]); }
std::uint32_t serial_of(Bytes d) { return load_be32(d, 1); }

std::uint64_t counters_sum(const ArpCounters& c) {
  std::uint64_t sum = 0;
  c.visit([&](std::string_view, std::uint64_t v) { sum += v; });
  return sum;
}

class Harness {
 public:
  explicit Harness(const ArpLimits& limits) : limits_(limits), cache_(limits, kOwn) {}

  void run(const Op& op) {
    now_ += Duration::milliseconds(op.gap_ms);
    const Ipv4Address ip = kHosts[op.host];
    switch (op.kind) {
      case OpKind::Enqueue: {
        const std::uint32_t serial = next_serial_++;
        const auto r = cache_.enqueue(ip, make_datagram(op.host, serial, op.len), now_);
        if (r == ArpCache::EnqueueResult::SendRequestNow) {
          ++requests_seen_;
          last_request_[op.host] = now_;
          episode_requests_[op.host] = 1;
          RC_ASSERT(cache_.is_pending(ip));
        }
        if (r != ArpCache::EnqueueResult::Dropped) {
          RC_ASSERT(cache_.queued_for(ip) >= 1u);
          if (r == ArpCache::EnqueueResult::SendRequestNow) {
            episode_accepted_[op.host].clear();  // a new pending entry
          }
          episode_accepted_[op.host].push_back(serial);
        }
        break;
      }
      case OpKind::Learn: {
        std::vector<ByteVector> released;
        const MacAddress mac = mac_of(op.host, op.mac);
        const bool was_present = cache_.is_pending(ip) || cache_.lookup(ip, now_).has_value();
        cache_.learn(ip, mac, now_, op.create, released);
        check_released(op.host, released);
        const auto found = cache_.lookup(ip, now_);
        if (found.has_value()) {
          RC_ASSERT(*found == mac);  // whenever the entry exists, it has the new MAC
        }
        if (was_present && op.host != 0 && op.host != 7 && limits_.entry_lifetime > Duration::zero()) {
          RC_ASSERT(found.has_value());  // RFC 826 merge: an entry in the table is updated
        }
        if (op.host == 0 || op.host == 7) {
          RC_ASSERT(!found.has_value());
          RC_ASSERT(released.empty());
        }
        if (cache_.lookup(ip, now_).has_value()) {
          learnt_[op.host] = mac;
        }
        break;
      }
      case OpKind::Lookup: {
        const auto found = cache_.lookup(ip, now_);
        if (found.has_value()) {
          RC_ASSERT(learnt_.count(op.host) == 1u);
          RC_ASSERT(*found == learnt_[op.host]);
        }
        break;
      }
      case OpKind::PollAtDeadline: {
        const Instant next = cache_.next_deadline();
        if (next != Instant::never()) {
          if (next > now_) {
            // Nothing happens a nanosecond before the deadline.
            poll_expect_idle(next - Duration::nanoseconds(1));
            now_ = next;
          }
          poll_expect_work();
        }
        break;
      }
      case OpKind::PollAt:
        if (now_ < cache_.next_deadline()) {
          poll_expect_idle(now_);
        } else {
          poll_expect_work();
        }
        break;
    }
    check_invariants();
  }

  const ArpCounters& counters() const { return cache_.counters(); }

  // Runs every timer out: nothing may stay queued forever.
  void drain() {
    for (int guard = 0; guard < 10'000; ++guard) {
      const Instant next = cache_.next_deadline();
      if (next == Instant::never()) {
        break;
      }
      now_ = std::max(now_, next);
      poll_expect_work();
      check_invariants();
    }
    RC_ASSERT(cache_.next_deadline() == Instant::never());
    RC_ASSERT(cache_.size() == 0u);
    RC_ASSERT(cache_.pending_packets() == 0u);
    RC_ASSERT(cache_.pending_bytes() == 0u);
    const ArpCounters& c = cache_.counters();
    RC_ASSERT(c.datagrams_enqueued == c.datagrams_released + c.pending_dropped_total());
  }

 private:
  void poll(Instant at) {
    cache_.poll(
        at,
        [&](Ipv4Address a) {
          const std::size_t h = index_of(a);
          ++requests_seen_;
          // RFC 1122 2.3.2.1: never faster than one request per interval.
          RC_ASSERT(last_request_.count(h) == 1u);
          RC_ASSERT(at - last_request_[h] >= limits_.request_interval);
          last_request_[h] = at;
          ++episode_requests_[h];
          RC_ASSERT(episode_requests_[h] <= std::max<std::uint32_t>(limits_.request_attempts_max, 1));
          RC_ASSERT(cache_.is_pending(a));
        },
        [&](Ipv4Address a, std::size_t dropped, Bytes first) {
          const std::size_t h = index_of(a);
          ++give_ups_seen_;
          given_up_datagrams_ += dropped;
          RC_ASSERT(dropped >= 1u);
          RC_ASSERT(!cache_.is_pending(a));
          // The first queued datagram: for this host, newer than any released.
          RC_ASSERT(first.size() >= 5u);
          RC_ASSERT(static_cast<std::size_t>(first[0]) == h);
          const std::uint32_t serial = serial_of(first);
          std::vector<std::uint32_t>& accepted = episode_accepted_[h];
          RC_ASSERT(dropped <= accepted.size());
          RC_ASSERT(serial == accepted[accepted.size() - dropped]);
          accepted.clear();
          RC_ASSERT(seen_serials_.insert(serial).second);
          if (last_released_.count(h) == 1u) {
            RC_ASSERT(serial > last_released_[h]);
          }
          last_released_[h] = serial;
          RC_ASSERT(at - last_request_[h] >= limits_.request_interval);
        });
  }

  void poll_expect_idle(Instant at) {
    const std::uint64_t before = counters_sum(cache_.counters());
    const std::size_t size = cache_.size();
    const std::uint64_t requests = requests_seen_;
    const std::uint64_t give_ups = give_ups_seen_;
    poll(at);
    RC_ASSERT(counters_sum(cache_.counters()) == before);
    RC_ASSERT(cache_.size() == size);
    RC_ASSERT(requests_seen_ == requests);
    RC_ASSERT(give_ups_seen_ == give_ups);
  }

  void poll_expect_work() {
    const std::uint64_t before = counters_sum(cache_.counters());
    poll(now_);
    // A retry, a give-up or an expiry each move a counter.
    RC_ASSERT(counters_sum(cache_.counters()) > before);
    // Nothing overdue is left behind.
    RC_ASSERT(cache_.next_deadline() >= now_);
  }

  void check_released(std::size_t h, const std::vector<ByteVector>& released) {
    if (!released.empty()) {
      // RFC 1122 2.3.2.2: room is made by dropping the oldest, so what is
      // released is the newest datagrams accepted for this next hop.
      std::vector<std::uint32_t>& accepted = episode_accepted_[h];
      RC_ASSERT(released.size() <= accepted.size());
      const std::size_t skip = accepted.size() - released.size();
      for (std::size_t i = 0; i < released.size(); ++i) {
        RC_ASSERT(serial_of(as_bytes(released[i])) == accepted[skip + i]);
      }
      accepted.clear();
    }
    for (const ByteVector& d : released) {
      RC_ASSERT(host_of(d) == h);
      const std::uint32_t serial = serial_of(as_bytes(d));
      RC_ASSERT(seen_serials_.insert(serial).second);  // released once
      if (last_released_.count(h) == 1u) {
        RC_ASSERT(serial > last_released_[h]);  // oldest first
      }
      last_released_[h] = serial;
    }
  }

  void check_invariants() {
    const ArpCounters& c = cache_.counters();
    RC_ASSERT(cache_.size() <= limits_.cache_entries_max);
    RC_ASSERT(cache_.pending_bytes() <= limits_.pending_bytes_total_max);
    RC_ASSERT(cache_.pending_packets() <= cache_.pending_neighbors() * limits_.pending_packets_per_neighbor_max);
    RC_ASSERT(c.datagrams_enqueued == c.datagrams_released + c.pending_dropped_total() + cache_.pending_packets());
    RC_ASSERT(c.resolution_requests == requests_seen_);
    RC_ASSERT(c.resolution_failures == give_ups_seen_);
    RC_ASSERT(c.pending_dropped_give_up == given_up_datagrams_);
    RC_ASSERT(c.requests_sent == 0u);  // the caller's
    RC_ASSERT(!cache_.lookup(kOwn, now_).has_value());
    RC_ASSERT(!cache_.is_pending(kOwn));
    std::size_t queued = 0;
    for (const Ipv4Address a : kHosts) {
      queued += cache_.queued_for(a);
    }
    RC_ASSERT(queued == cache_.pending_packets());
  }

  static std::size_t index_of(Ipv4Address a) {
    for (std::size_t i = 0; i < kHosts.size(); ++i) {
      if (kHosts[i] == a) {
        return i;
      }
    }
    RC_FAIL("callback for an address never used");
  }

  ArpLimits limits_;
  ArpCache cache_;
  Instant now_ = Instant::epoch();
  std::uint32_t next_serial_ = 0;
  std::uint64_t requests_seen_ = 0;
  std::uint64_t give_ups_seen_ = 0;
  std::uint64_t given_up_datagrams_ = 0;
  std::map<std::size_t, Instant> last_request_;
  std::map<std::size_t, std::uint32_t> episode_requests_;
  std::map<std::size_t, std::uint32_t> last_released_;
  // Serials accepted for the current pending entry of each next hop, in order.
  std::map<std::size_t, std::vector<std::uint32_t>> episode_accepted_;
  std::map<std::size_t, MacAddress> learnt_;
  std::set<std::uint32_t> seen_serials_;
};

RC_GTEST_PROP(ArpCacheProp, BoundsConservationAndExactDeadlines, ()) {
  const ArpLimits limits = limits_gen();
  const auto ops = *rc::gen::container<std::vector<Op>>(op_gen());
  Harness harness(limits);
  for (const Op& op : ops) {
    harness.run(op);
  }
  harness.drain();
  // Show that the rarer paths are taken (printed with the result; the
  // others, queue and table limits and expiry, are hit in most runs).
  const ArpCounters& c = harness.counters();
  RC_CLASSIFY(c.resolutions > 0, "resolved");
  RC_CLASSIFY(c.resolution_failures > 0, "gave up");
  RC_CLASSIFY(c.entries_evicted > 0, "evicted");
}

}  // namespace
}  // namespace tapstack::link
