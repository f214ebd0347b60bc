#include "stack/link/arp_cache.hpp"

#include <algorithm>
#include <limits>

namespace tapstack::link {
namespace {

// now + d without signed overflow: a huge configured lifetime means "never".
Instant saturating_add(Instant now, Duration d) {
  if (d.ns() > 0 && now.ns() > std::numeric_limits<std::int64_t>::max() - d.ns()) {
    return Instant::never();
  }
  return now + d;
}

bool valid_mac(wire::MacAddress mac) { return mac.is_unicast() && mac != wire::MacAddress{}; }

// One unit of poll() work, run after the table is consistent again.
struct DueAction {
  wire::Ipv4Address ip;
  bool give_up = false;
  std::size_t dropped = 0;
  ByteVector first;
};

}  // namespace

ArpCache::ArpCache(const ArpLimits& limits, wire::Ipv4Address own_address)
    : limits_(limits), own_address_(own_address) {}

bool ArpCache::valid_neighbor(wire::Ipv4Address ip) const {
  return ip != own_address_ && !ip.is_unspecified() && !ip.is_broadcast() && !ip.is_multicast() &&
         !ip.is_loopback();
}

std::optional<wire::MacAddress> ArpCache::lookup(wire::Ipv4Address ip, Instant now) const {
  const auto it = entries_.find(ip);
  if (it == entries_.end() || it->second.pending || now >= it->second.deadline) {
    return std::nullopt;
  }
  lru_.splice(lru_.end(), lru_, it->second.lru);
  return it->second.mac;
}

void ArpCache::set_deadline(wire::Ipv4Address ip, Entry& entry, Instant deadline) {
  deadlines_.erase({entry.deadline, ip});
  entry.deadline = deadline;
  deadlines_.insert({deadline, ip});
}

void ArpCache::erase(Entries::iterator it) {
  Entry& entry = it->second;
  deadlines_.erase({entry.deadline, it->first});
  if (entry.pending) {
    pending_bytes_ -= entry.queued_bytes;
    pending_packets_ -= entry.queue.size();
  } else {
    lru_.erase(entry.lru);
  }
  entries_.erase(it);
}

bool ArpCache::make_room() {
  if (entries_.size() < limits_.cache_entries_max) {
    return true;
  }
  // Full: only a resolved entry may make room (pending ones hold datagrams).
  if (lru_.empty()) {
    return false;
  }
  erase(entries_.find(lru_.front()));
  ++counters_.entries_evicted;
  return entries_.size() < limits_.cache_entries_max;
}

void ArpCache::drop_oldest(Entry& entry) {
  const std::size_t len = entry.queue.front().size();
  entry.queue.pop_front();
  entry.queued_bytes -= len;
  pending_bytes_ -= len;
  --pending_packets_;
}

void ArpCache::learn(wire::Ipv4Address ip, wire::MacAddress mac, Instant now, bool create,
                     std::vector<ByteVector>& released) {
  if (ip == own_address_) {
    // Someone else claims our address (RFC 5227 2.4 calls this a conflict).
    // Storing it would make us send our own traffic to them.
    ++counters_.conflicting_own_address;
    return;
  }
  if (!valid_neighbor(ip) || !valid_mac(mac)) {
    // E.g. RFC 5227 probes carry sender IP 0.0.0.0; a group MAC is never a
    // host's hardware address.
    ++counters_.learn_ignored_invalid;
    return;
  }
  const Instant expiry = saturating_add(now, limits_.entry_lifetime);
  auto it = entries_.find(ip);
  if (it != entries_.end()) {
    // RFC 826: "update the sender hardware address field of the entry"
    // (Merge_flag := true), whatever the target.
    Entry& entry = it->second;
    if (entry.pending) {
      for (auto& datagram : entry.queue) {
        released.push_back(std::move(datagram));
      }
      counters_.datagrams_released += entry.queue.size();
      pending_packets_ -= entry.queue.size();
      pending_bytes_ -= entry.queued_bytes;
      entry.queue.clear();
      entry.queued_bytes = 0;
      entry.pending = false;
      entry.requests = 0;
      entry.lru = lru_.insert(lru_.end(), ip);
      ++counters_.resolutions;
    } else {
      lru_.splice(lru_.end(), lru_, entry.lru);
      ++counters_.entries_refreshed;
    }
    entry.mac = mac;
    set_deadline(ip, entry, expiry);
    return;
  }
  // RFC 826: only when "I am the target protocol address" is a new triplet
  // added; other hosts' broadcasts update but do not fill the table.
  if (!create) {
    return;
  }
  if (!make_room()) {
    ++counters_.learn_dropped_table_full;
    return;
  }
  Entry& entry = entries_[ip];
  entry.mac = mac;
  entry.deadline = expiry;
  entry.lru = lru_.insert(lru_.end(), ip);
  deadlines_.insert({expiry, ip});
  ++counters_.entries_created;
}

ArpCache::EnqueueResult ArpCache::enqueue(wire::Ipv4Address next_hop, ByteVector datagram, Instant now) {
  ++counters_.datagrams_enqueued;
  if (!valid_neighbor(next_hop)) {
    ++counters_.pending_dropped_invalid_next_hop;
    return EnqueueResult::Dropped;
  }
  if (limits_.pending_packets_per_neighbor_max == 0) {
    ++counters_.pending_dropped_overflow;
    return EnqueueResult::Dropped;
  }
  const std::size_t len = datagram.size();
  auto it = entries_.find(next_hop);
  const bool already_pending = it != entries_.end() && it->second.pending;
  // Bytes this datagram may use: what is free plus what this next hop's own
  // older datagrams hold (they may be dropped for it; nobody else's are).
  const std::size_t own_bytes = already_pending ? it->second.queued_bytes : 0;
  const std::size_t free_bytes = limits_.pending_bytes_total_max - pending_bytes_;
  if (len > free_bytes + own_bytes) {
    ++counters_.pending_dropped_memory;
    return EnqueueResult::Dropped;
  }

  bool created = false;
  if (!already_pending) {
    if (it != entries_.end()) {
      // A resolved entry the caller could not use: expired (not yet polled
      // away) or bypassed. Resolve the address again.
      if (now >= it->second.deadline) {
        ++counters_.entries_expired;
      }
      erase(it);
    } else if (!make_room()) {
      ++counters_.pending_dropped_table_full;
      return EnqueueResult::Dropped;
    }
    const Instant retry = saturating_add(now, limits_.request_interval);
    Entry& fresh = entries_[next_hop];
    fresh.pending = true;
    fresh.requests = 1;  // the one the caller sends now
    fresh.deadline = retry;
    deadlines_.insert({retry, next_hop});
    it = entries_.find(next_hop);
    created = true;
    ++counters_.resolution_requests;
  }

  Entry& entry = it->second;
  // RFC 1122 2.3.2.2: keep "the latest" packet; the oldest go first.
  while (entry.queue.size() >= limits_.pending_packets_per_neighbor_max) {
    drop_oldest(entry);
    ++counters_.pending_dropped_overflow;
  }
  while (pending_bytes_ + len > limits_.pending_bytes_total_max) {
    drop_oldest(entry);  // cannot run dry: checked against own_bytes above
    ++counters_.pending_dropped_memory;
  }
  entry.queue.push_back(std::move(datagram));
  entry.queued_bytes += len;
  pending_bytes_ += len;
  ++pending_packets_;
  return created ? EnqueueResult::SendRequestNow : EnqueueResult::Queued;
}

void ArpCache::poll(Instant now, const std::function<void(wire::Ipv4Address)>& send_request,
                    const std::function<void(wire::Ipv4Address, std::size_t, Bytes)>& give_up) {
  // Every entry due now, taken once: a retry rescheduled to `now` (zero
  // request_interval) waits for the next poll, so this loop is bounded.
  std::vector<wire::Ipv4Address> due;
  for (auto d = deadlines_.begin(); d != deadlines_.end() && d->first <= now; ++d) {
    due.push_back(d->second);
  }
  std::vector<DueAction> actions;
  const std::uint32_t attempts_max = std::max<std::uint32_t>(limits_.request_attempts_max, 1);
  for (const wire::Ipv4Address ip : due) {
    auto it = entries_.find(ip);
    Entry& entry = it->second;
    if (!entry.pending) {
      erase(it);
      ++counters_.entries_expired;
    } else if (entry.requests < attempts_max) {
      ++entry.requests;
      set_deadline(ip, entry, saturating_add(now, limits_.request_interval));
      ++counters_.resolution_requests;
      actions.push_back(DueAction{ip, false, 0, {}});
    } else {
      DueAction action{ip, true, entry.queue.size(), {}};
      if (!entry.queue.empty()) {
        action.first = std::move(entry.queue.front());
      }
      counters_.pending_dropped_give_up += entry.queue.size();
      ++counters_.resolution_failures;
      erase(it);
      actions.push_back(std::move(action));
    }
  }
  for (const DueAction& action : actions) {
    if (!action.give_up) {
      if (send_request) {
        send_request(action.ip);
      }
    } else if (give_up) {
      give_up(action.ip, action.dropped, as_bytes(action.first));
    }
  }
}

Instant ArpCache::next_deadline() const {
  return deadlines_.empty() ? Instant::never() : deadlines_.begin()->first;
}

bool ArpCache::is_pending(wire::Ipv4Address ip) const {
  const auto it = entries_.find(ip);
  return it != entries_.end() && it->second.pending;
}

std::size_t ArpCache::queued_for(wire::Ipv4Address ip) const {
  const auto it = entries_.find(ip);
  return it == entries_.end() ? 0 : it->second.queue.size();
}

}  // namespace tapstack::link
