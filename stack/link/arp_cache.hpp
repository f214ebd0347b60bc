#pragma once
// The ARP cache of one interface (RFC 826, RFC 1122 2.3.2): resolved entries
// with a lifetime, plus one pending entry per unresolved next hop holding the
// datagrams that wait for it and the state of its request retries. Pure: it
// builds no frames, reads no clock and does no I/O. The caller sends the ARP
// requests it asks for and the datagrams it releases.
//
// Policies (each bounded, each counted):
//   * Size. cache_entries_max counts resolved and pending entries together.
//     A new entry in a full table evicts the least recently used RESOLVED
//     entry. Pending entries are never evicted: evicting one would silently
//     drop the datagrams it holds and restart its resolution, and a pending
//     entry ends by itself within request_interval * request_attempts_max.
//     When every entry is pending, the newcomer is refused instead
//     (pending_dropped_table_full / learn_dropped_table_full).
//   * Recency. "Used" means created, updated by learn() or returned by a
//     lookup() hit. lookup() is const for its callers but moves the entry to
//     the most recently used end (a mutable list): an entry in active use is
//     not the one evicted. Ties cannot occur: the order is a list, not times.
//   * Lifetime. A resolved entry expires entry_lifetime after it was last
//     learnt (RFC 1122 2.3.2.1 (1): refreshed by observing the sender fields
//     of ARP traffic, not by use). lookup() reports nothing from the expiry
//     instant on; poll() removes it (entries_expired).
//   * Requests. The first enqueue() for an unknown next hop creates its pending
//     entry and tells the caller to send the first request (SendRequestNow).
//     A retry is due request_interval after the previous request (measured
//     from the poll that sent it, so requests to one destination are never
//     closer than request_interval: RFC 1122 2.3.2.1 "prevent ARP flooding").
//     With request_attempts_max requests sent in total, the next due instant
//     gives up instead: the queue is dropped (pending_dropped_give_up) and the
//     caller hears give_up(ip, dropped, first datagram).
//   * Queues. Per next hop at most pending_packets_per_neighbor_max datagrams;
//     all queues together at most pending_bytes_total_max bytes. RFC 1122
//     2.3.2.2 asks to keep "the latest" packet, so when a queue is full its
//     OLDEST datagram is dropped for the new one (pending_dropped_overflow),
//     and when the byte limit is hit, this next hop's oldest datagrams are
//     dropped to make room (pending_dropped_memory). Other next hops' queues
//     are never touched; when even an emptied queue would not make room, the
//     new datagram is dropped instead (pending_dropped_memory, Dropped).
//   * Our own address is never stored (conflicting_own_address) and never
//     resolved (pending_dropped_invalid_next_hop). Unspecified, broadcast,
//     multicast and loopback IPs and non-unicast or all-zero MACs are never
//     stored either (learn_ignored_invalid).
//
// Conservation (checked by property_tests/arp_cache_prop.cpp):
//   datagrams_enqueued == datagrams_released + pending_dropped_overflow
//       + pending_dropped_memory + pending_dropped_table_full
//       + pending_dropped_invalid_next_hop + pending_dropped_give_up
//       + pending_packets()
//
// Callbacks from poll() run after the cache is consistent again, from a local
// list: they may call back into the cache (e.g. enqueue an ICMP error).

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <map>
#include <optional>
#include <set>
#include <string_view>
#include <utility>
#include <vector>

#include "stack/base/bytes.hpp"
#include "stack/base/time.hpp"
#include "stack/config.hpp"
#include "stack/wire/address.hpp"

namespace tapstack::link {

struct ArpCounters {
  // Maintained by the CALLER (the stack's ARP input and output), through the
  // non-const ArpCache::counters(): the cache sees no ARP packets.
  std::uint64_t requests_sent = 0;      // every ARP request frame sent (resolution and gratuitous)
  std::uint64_t replies_sent = 0;
  std::uint64_t requests_received = 0;
  std::uint64_t replies_received = 0;

  // Maintained by the cache.
  std::uint64_t resolution_requests = 0;  // requests the cache asked for (SendRequestNow + send_request)
  std::uint64_t resolutions = 0;          // pending entries resolved by learn()
  std::uint64_t resolution_failures = 0;  // pending entries given up
  std::uint64_t entries_created = 0;      // resolved entries created by learn(create = true)
  std::uint64_t entries_refreshed = 0;    // resolved entries updated by learn()
  std::uint64_t entries_evicted = 0;      // LRU resolved entries removed to make room
  std::uint64_t entries_expired = 0;      // resolved entries removed after entry_lifetime
  std::uint64_t conflicting_own_address = 0;  // learn() of OUR address: never stored
  std::uint64_t learn_ignored_invalid = 0;    // learn() of a non-unicast IP or MAC
  std::uint64_t learn_dropped_table_full = 0; // learn(create) with every entry pending

  std::uint64_t datagrams_enqueued = 0;   // every enqueue() call
  std::uint64_t datagrams_released = 0;   // handed back by learn() for sending
  std::uint64_t pending_dropped_overflow = 0;        // oldest of a full per-neighbor queue
  std::uint64_t pending_dropped_memory = 0;          // pending_bytes_total_max
  std::uint64_t pending_dropped_table_full = 0;      // no entry for a new next hop: all pending
  std::uint64_t pending_dropped_invalid_next_hop = 0;  // our own or a non-unicast address
  std::uint64_t pending_dropped_give_up = 0;         // queued when resolution failed

  // Calls f(std::string_view name, std::uint64_t value) for every counter, in
  // a stable order (the caller prefixes "arp.").
  template <class F>
  void visit(F&& f) const {
    f(std::string_view{"requests_sent"}, requests_sent);
    f(std::string_view{"replies_sent"}, replies_sent);
    f(std::string_view{"requests_received"}, requests_received);
    f(std::string_view{"replies_received"}, replies_received);
    f(std::string_view{"resolution_requests"}, resolution_requests);
    f(std::string_view{"resolutions"}, resolutions);
    f(std::string_view{"resolution_failures"}, resolution_failures);
    f(std::string_view{"entries_created"}, entries_created);
    f(std::string_view{"entries_refreshed"}, entries_refreshed);
    f(std::string_view{"entries_evicted"}, entries_evicted);
    f(std::string_view{"entries_expired"}, entries_expired);
    f(std::string_view{"conflicting_own_address"}, conflicting_own_address);
    f(std::string_view{"learn_ignored_invalid"}, learn_ignored_invalid);
    f(std::string_view{"learn_dropped_table_full"}, learn_dropped_table_full);
    f(std::string_view{"datagrams_enqueued"}, datagrams_enqueued);
    f(std::string_view{"datagrams_released"}, datagrams_released);
    f(std::string_view{"pending_dropped_overflow"}, pending_dropped_overflow);
    f(std::string_view{"pending_dropped_memory"}, pending_dropped_memory);
    f(std::string_view{"pending_dropped_table_full"}, pending_dropped_table_full);
    f(std::string_view{"pending_dropped_invalid_next_hop"}, pending_dropped_invalid_next_hop);
    f(std::string_view{"pending_dropped_give_up"}, pending_dropped_give_up);
  }

  // Every datagram enqueue() accepted or refused, dropped for any reason.
  std::uint64_t pending_dropped_total() const {
    return pending_dropped_overflow + pending_dropped_memory + pending_dropped_table_full +
           pending_dropped_invalid_next_hop + pending_dropped_give_up;
  }
};

class ArpCache {
 public:
  ArpCache(const ArpLimits& limits, wire::Ipv4Address own_address);

  // The MAC for `ip` if resolved and not expired at `now`. A hit counts as a
  // use for LRU eviction.
  std::optional<wire::MacAddress> lookup(wire::Ipv4Address ip, Instant now) const;

  // RFC 826 "Packet Reception" merge: if `ip` is in the table (resolved, even
  // expired but not yet polled away, or pending) its MAC is updated and its
  // lifetime restarted; otherwise, only when `create` (we are the target
  // protocol address), a new entry is added. A pending entry becomes resolved
  // and its datagrams are appended to `released` in the order they were
  // queued (the caller sends them now). Never stores own_address.
  void learn(wire::Ipv4Address ip, wire::MacAddress mac, Instant now, bool create,
             std::vector<ByteVector>& released);

  enum class EnqueueResult : std::uint8_t { SendRequestNow, Queued, Dropped };
  // Queue an IPv4 datagram (bytes from the IP header on) waiting for
  // `next_hop`, which the caller looked up and missed. SendRequestNow when this
  // created the pending entry: the caller sends the first ARP request now, and
  // poll() asks for the retries. Queued when the next hop was already pending
  // (an older datagram may have been dropped for it: see the header comment).
  // Dropped (counted) when the datagram could not be queued. A resolved entry
  // for `next_hop` (expired, or a caller that did not look up) is turned into
  // a pending one: the address is resolved again.
  EnqueueResult enqueue(wire::Ipv4Address next_hop, ByteVector datagram, Instant now);

  // Due work at `now`, each due entry once per call, in deadline order (then
  // address order): a pending entry with requests left calls send_request(ip);
  // one out of attempts drops its queue (counted) and calls
  // give_up(ip, dropped_count, first_datagram), the bytes valid during the
  // call only (the stack may send ICMP host unreachable about it); an expired
  // resolved entry is removed. Empty std::functions are allowed.
  void poll(Instant now, const std::function<void(wire::Ipv4Address)>& send_request,
            const std::function<void(wire::Ipv4Address, std::size_t, Bytes)>& give_up);

  // The earliest retry, give-up or expiry instant: poll() before it does
  // nothing, poll() at it has work. Instant::never() when the table is empty
  // (or holds only entries whose lifetime reaches past Instant::never()).
  Instant next_deadline() const;

  std::size_t size() const { return entries_.size(); }
  std::size_t pending_bytes() const { return pending_bytes_; }
  std::size_t pending_packets() const { return pending_packets_; }
  // Number of next hops being resolved.
  std::size_t pending_neighbors() const { return entries_.size() - lru_.size(); }
  // Whether `ip` has a pending entry, and how many datagrams wait for it.
  bool is_pending(wire::Ipv4Address ip) const;
  std::size_t queued_for(wire::Ipv4Address ip) const;

  const ArpLimits& limits() const { return limits_; }
  wire::Ipv4Address own_address() const { return own_address_; }
  const ArpCounters& counters() const { return counters_; }
  // For the caller's share of the counters (requests/replies sent and received).
  ArpCounters& counters() { return counters_; }

 private:
  struct Entry {
    bool pending = false;
    wire::MacAddress mac;        // when resolved
    Instant deadline;            // resolved: expiry; pending: next retry or give-up
    std::uint32_t requests = 0;  // pending: requests sent so far, the first included
    std::deque<ByteVector> queue;  // pending: oldest first
    std::size_t queued_bytes = 0;
    std::list<wire::Ipv4Address>::iterator lru;  // resolved: position in lru_
  };
  using Entries = std::map<wire::Ipv4Address, Entry>;

  bool valid_neighbor(wire::Ipv4Address ip) const;
  // Room for one more entry: evicts the LRU resolved entry if the table is
  // full. False when every entry is pending (or cache_entries_max is 0).
  bool make_room();
  void set_deadline(wire::Ipv4Address ip, Entry& entry, Instant deadline);
  void drop_oldest(Entry& entry);
  void erase(Entries::iterator it);

  ArpLimits limits_;
  wire::Ipv4Address own_address_;
  Entries entries_;
  // Resolved entries, least recently used first. Mutable: lookup() reorders it.
  mutable std::list<wire::Ipv4Address> lru_;
  // (deadline, address) of every entry: next_deadline() is its first element.
  std::set<std::pair<Instant, wire::Ipv4Address>> deadlines_;
  std::size_t pending_bytes_ = 0;
  std::size_t pending_packets_ = 0;
  ArpCounters counters_;
};

}  // namespace tapstack::link
