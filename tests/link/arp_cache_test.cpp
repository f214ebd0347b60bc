#include "stack/link/arp_cache.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

namespace tapstack::link {
namespace {

using wire::Ipv4Address;
using wire::MacAddress;
using Result = ArpCache::EnqueueResult;

constexpr Ipv4Address kOwn = Ipv4Address::from_octets(10, 0, 0, 1);

constexpr Ipv4Address ip(std::uint8_t host) { return Ipv4Address::from_octets(10, 0, 0, host); }
constexpr MacAddress mac(std::uint8_t last) { return MacAddress{{0x02, 0x00, 0x00, 0x00, 0x00, last}}; }
Instant at_ms(std::int64_t ms) { return Instant::epoch() + Duration::milliseconds(ms); }

// A datagram of `len` bytes whose first byte is `tag`, so order is visible.
ByteVector datagram(std::uint8_t tag, std::size_t len = 20) {
  ByteVector d(len, std::byte{0x45});
  d[0] = std::byte{tag};
  return d;
}

std::vector<std::uint8_t> tags(const std::vector<ByteVector>& datagrams) {
  std::vector<std::uint8_t> out;
  for (const auto& d : datagrams) {
    out.push_back(static_cast<std::uint8_t>(d[0]));
  }
  return out;
}

ArpLimits small_limits() {
  ArpLimits limits;
  limits.cache_entries_max = 4;
  limits.entry_lifetime = Duration::seconds(60);
  limits.request_interval = Duration::seconds(1);
  limits.request_attempts_max = 3;
  limits.pending_packets_per_neighbor_max = 4;
  limits.pending_bytes_total_max = 1000;
  return limits;
}

// What poll() reported, with the instant of each call.
struct Recorder {
  struct GiveUp {
    Ipv4Address ip;
    std::size_t dropped;
    ByteVector first;
    Instant when;
  };
  std::vector<std::pair<Ipv4Address, Instant>> requests;
  std::vector<GiveUp> give_ups;

  void poll(ArpCache& cache, Instant now) {
    cache.poll(
        now, [&](Ipv4Address a) { requests.emplace_back(a, now); },
        [&](Ipv4Address a, std::size_t n, Bytes first) {
          give_ups.push_back(GiveUp{a, n, ByteVector(first.begin(), first.end()), now});
        });
  }
  // Drives time only through next_deadline(), as the stack does, until nothing
  // is left or `limit` is reached.
  void run_until(ArpCache& cache, Instant limit) {
    for (int guard = 0; guard < 1000; ++guard) {
      const Instant next = cache.next_deadline();
      if (next == Instant::never() || next > limit) {
        return;
      }
      poll(cache, next);
    }
    FAIL() << "poll loop did not settle";
  }
};

void expect_conservation(const ArpCache& cache) {
  const ArpCounters& c = cache.counters();
  EXPECT_EQ(c.datagrams_enqueued, c.datagrams_released + c.pending_dropped_total() + cache.pending_packets());
}

// ---------------------------------------------------------------- learning

TEST(ArpCacheLearn, EmptyTableHasNothingAndNoDeadline) {
  ArpCache cache(small_limits(), kOwn);
  EXPECT_FALSE(cache.lookup(ip(2), at_ms(0)).has_value());
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.next_deadline(), Instant::never());
}

TEST(ArpCacheLearn, CreateStoresTheEntry) {
  ArpCache cache(small_limits(), kOwn);
  std::vector<ByteVector> released;
  cache.learn(ip(2), mac(2), at_ms(0), true, released);
  EXPECT_EQ(cache.lookup(ip(2), at_ms(0)), mac(2));
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_TRUE(released.empty());
  EXPECT_EQ(cache.counters().entries_created, 1u);
  EXPECT_EQ(cache.next_deadline(), at_ms(60'000));
}

TEST(ArpCacheLearn, WithoutCreateNothingIsAdded) {
  // RFC 826: a broadcast request for someone else only updates existing entries.
  ArpCache cache(small_limits(), kOwn);
  std::vector<ByteVector> released;
  cache.learn(ip(2), mac(2), at_ms(0), false, released);
  EXPECT_FALSE(cache.lookup(ip(2), at_ms(0)).has_value());
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.counters().entries_created, 0u);
}

TEST(ArpCacheLearn, WithoutCreateAnExistingEntryIsUpdatedAndRefreshed) {
  ArpCache cache(small_limits(), kOwn);
  std::vector<ByteVector> released;
  cache.learn(ip(2), mac(2), at_ms(0), true, released);
  cache.learn(ip(2), mac(9), at_ms(30'000), false, released);
  EXPECT_EQ(cache.lookup(ip(2), at_ms(30'000)), mac(9));  // the new MAC supersedes
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.counters().entries_refreshed, 1u);
  // Lifetime restarted at 30 s (RFC 1122 2.3.2.1 (1)).
  EXPECT_EQ(cache.next_deadline(), at_ms(90'000));
  EXPECT_TRUE(cache.lookup(ip(2), at_ms(89'999)).has_value());
}

TEST(ArpCacheLearn, OwnAddressIsNeverStored) {
  ArpCache cache(small_limits(), kOwn);
  std::vector<ByteVector> released;
  cache.learn(kOwn, mac(66), at_ms(0), true, released);
  cache.learn(kOwn, mac(67), at_ms(1), false, released);
  EXPECT_FALSE(cache.lookup(kOwn, at_ms(1)).has_value());
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.counters().conflicting_own_address, 2u);
  EXPECT_EQ(cache.counters().entries_created, 0u);
  EXPECT_EQ(cache.next_deadline(), Instant::never());
}

TEST(ArpCacheLearn, OwnAddressIsNeverResolved) {
  ArpCache cache(small_limits(), kOwn);
  EXPECT_EQ(cache.enqueue(kOwn, datagram(1), at_ms(0)), Result::Dropped);
  EXPECT_EQ(cache.counters().pending_dropped_invalid_next_hop, 1u);
  EXPECT_EQ(cache.size(), 0u);
  expect_conservation(cache);
}

TEST(ArpCacheLearn, NonUnicastSendersAreIgnored) {
  ArpCache cache(small_limits(), kOwn);
  std::vector<ByteVector> released;
  cache.learn(Ipv4Address::any(), mac(2), at_ms(0), true, released);  // RFC 5227 probe
  cache.learn(Ipv4Address::broadcast(), mac(2), at_ms(0), true, released);
  cache.learn(Ipv4Address::from_octets(224, 0, 0, 1), mac(2), at_ms(0), true, released);
  cache.learn(Ipv4Address::from_octets(127, 0, 0, 1), mac(2), at_ms(0), true, released);
  cache.learn(ip(3), MacAddress::broadcast(), at_ms(0), true, released);
  cache.learn(ip(3), MacAddress{{0x01, 0x00, 0x5e, 0, 0, 1}}, at_ms(0), true, released);
  cache.learn(ip(3), MacAddress{}, at_ms(0), true, released);
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.counters().learn_ignored_invalid, 7u);
}

TEST(ArpCacheLearn, InvalidNextHopsAreDropped) {
  ArpCache cache(small_limits(), kOwn);
  EXPECT_EQ(cache.enqueue(Ipv4Address::any(), datagram(1), at_ms(0)), Result::Dropped);
  EXPECT_EQ(cache.enqueue(Ipv4Address::broadcast(), datagram(2), at_ms(0)), Result::Dropped);
  EXPECT_EQ(cache.enqueue(Ipv4Address::from_octets(239, 1, 2, 3), datagram(3), at_ms(0)), Result::Dropped);
  EXPECT_EQ(cache.counters().pending_dropped_invalid_next_hop, 3u);
  EXPECT_EQ(cache.size(), 0u);
  expect_conservation(cache);
}

// ---------------------------------------------------------------- expiry

TEST(ArpCacheExpiry, EntryExpiresExactlyAtItsLifetime) {
  ArpCache cache(small_limits(), kOwn);
  std::vector<ByteVector> released;
  cache.learn(ip(2), mac(2), at_ms(5), true, released);
  const Instant expiry = at_ms(60'005);
  EXPECT_EQ(cache.next_deadline(), expiry);
  EXPECT_TRUE(cache.lookup(ip(2), expiry - Duration::nanoseconds(1)).has_value());
  // From the expiry instant on it is not reported, even before poll removes it.
  EXPECT_FALSE(cache.lookup(ip(2), expiry).has_value());

  Recorder rec;
  rec.poll(cache, expiry - Duration::nanoseconds(1));
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.counters().entries_expired, 0u);
  rec.poll(cache, expiry);
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.counters().entries_expired, 1u);
  EXPECT_EQ(cache.next_deadline(), Instant::never());
  EXPECT_TRUE(rec.requests.empty());
  EXPECT_TRUE(rec.give_ups.empty());
}

TEST(ArpCacheExpiry, ExpiredEntryIsRefreshedByLearnBeforePoll) {
  ArpCache cache(small_limits(), kOwn);
  std::vector<ByteVector> released;
  cache.learn(ip(2), mac(2), at_ms(0), true, released);
  cache.learn(ip(2), mac(2), at_ms(61'000), false, released);  // still in the table: merged
  EXPECT_EQ(cache.lookup(ip(2), at_ms(61'000)), mac(2));
  EXPECT_EQ(cache.next_deadline(), at_ms(121'000));
  EXPECT_EQ(cache.counters().entries_expired, 0u);
}

TEST(ArpCacheExpiry, EnqueueForAnExpiredEntryResolvesAgain) {
  ArpCache cache(small_limits(), kOwn);
  std::vector<ByteVector> released;
  cache.learn(ip(2), mac(2), at_ms(0), true, released);
  ASSERT_FALSE(cache.lookup(ip(2), at_ms(60'000)).has_value());
  EXPECT_EQ(cache.enqueue(ip(2), datagram(1), at_ms(60'000)), Result::SendRequestNow);
  EXPECT_TRUE(cache.is_pending(ip(2)));
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.counters().entries_expired, 1u);
  EXPECT_EQ(cache.next_deadline(), at_ms(61'000));
  expect_conservation(cache);
}

TEST(ArpCacheExpiry, HugeLifetimeDoesNotOverflow) {
  ArpLimits limits = small_limits();
  limits.entry_lifetime = Duration::max();
  ArpCache cache(limits, kOwn);
  std::vector<ByteVector> released;
  cache.learn(ip(2), mac(2), at_ms(1000), true, released);
  EXPECT_EQ(cache.lookup(ip(2), at_ms(1'000'000'000)), mac(2));
  EXPECT_EQ(cache.next_deadline(), Instant::never());
}

// ---------------------------------------------------------------- requests

TEST(ArpCacheRequests, FirstEnqueueAsksForARequestLaterOnesQueue) {
  ArpCache cache(small_limits(), kOwn);
  EXPECT_EQ(cache.enqueue(ip(2), datagram(1), at_ms(100)), Result::SendRequestNow);
  EXPECT_EQ(cache.enqueue(ip(2), datagram(2), at_ms(200)), Result::Queued);
  EXPECT_EQ(cache.enqueue(ip(3), datagram(3), at_ms(300)), Result::SendRequestNow);
  EXPECT_EQ(cache.counters().resolution_requests, 2u);
  EXPECT_EQ(cache.counters().requests_sent, 0u);  // the caller's counter
  EXPECT_EQ(cache.queued_for(ip(2)), 2u);
  EXPECT_EQ(cache.queued_for(ip(3)), 1u);
  EXPECT_EQ(cache.pending_packets(), 3u);
  EXPECT_EQ(cache.pending_bytes(), 60u);
  EXPECT_EQ(cache.pending_neighbors(), 2u);
  EXPECT_FALSE(cache.lookup(ip(2), at_ms(300)).has_value());
  // The first retry is one interval after the first request; a second
  // datagram does not move it.
  EXPECT_EQ(cache.next_deadline(), at_ms(1100));
}

TEST(ArpCacheRequests, RetriesEveryIntervalThenGivesUp) {
  ArpCache cache(small_limits(), kOwn);  // 1 s interval, 3 requests in total
  ASSERT_EQ(cache.enqueue(ip(2), datagram(1), at_ms(0)), Result::SendRequestNow);
  ASSERT_EQ(cache.enqueue(ip(2), datagram(2), at_ms(10)), Result::Queued);
  ASSERT_EQ(cache.enqueue(ip(2), datagram(3), at_ms(20)), Result::Queued);

  Recorder rec;
  rec.poll(cache, at_ms(1000) - Duration::nanoseconds(1));  // not yet
  EXPECT_TRUE(rec.requests.empty());
  rec.run_until(cache, Instant::never());

  ASSERT_EQ(rec.requests.size(), 2u);  // requests 2 and 3; the caller sent number 1
  EXPECT_EQ(rec.requests[0], std::make_pair(ip(2), at_ms(1000)));
  EXPECT_EQ(rec.requests[1], std::make_pair(ip(2), at_ms(2000)));
  ASSERT_EQ(rec.give_ups.size(), 1u);
  EXPECT_EQ(rec.give_ups[0].ip, ip(2));
  EXPECT_EQ(rec.give_ups[0].when, at_ms(3000));
  EXPECT_EQ(rec.give_ups[0].dropped, 3u);
  EXPECT_EQ(rec.give_ups[0].first, datagram(1));

  const ArpCounters& c = cache.counters();
  EXPECT_EQ(c.resolution_requests, 3u);
  EXPECT_EQ(c.resolution_failures, 1u);
  EXPECT_EQ(c.pending_dropped_give_up, 3u);
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.pending_bytes(), 0u);
  EXPECT_EQ(cache.pending_packets(), 0u);
  EXPECT_EQ(cache.next_deadline(), Instant::never());
  expect_conservation(cache);
}

TEST(ArpCacheRequests, ALatePollDelaysTheNextRetry) {
  // RFC 1122 2.3.2.1: never two requests closer than the interval.
  ArpCache cache(small_limits(), kOwn);
  ASSERT_EQ(cache.enqueue(ip(2), datagram(1), at_ms(0)), Result::SendRequestNow);
  Recorder rec;
  rec.poll(cache, at_ms(1500));
  ASSERT_EQ(rec.requests.size(), 1u);
  EXPECT_EQ(cache.next_deadline(), at_ms(2500));
  rec.poll(cache, at_ms(2499));
  EXPECT_EQ(rec.requests.size(), 1u);
  rec.poll(cache, at_ms(2500));
  EXPECT_EQ(rec.requests.size(), 2u);
  EXPECT_EQ(cache.next_deadline(), at_ms(3500));
}

TEST(ArpCacheRequests, SingleAttemptGivesUpAfterOneInterval) {
  ArpLimits limits = small_limits();
  limits.request_attempts_max = 1;
  ArpCache cache(limits, kOwn);
  ASSERT_EQ(cache.enqueue(ip(2), datagram(7), at_ms(0)), Result::SendRequestNow);
  Recorder rec;
  rec.run_until(cache, Instant::never());
  EXPECT_TRUE(rec.requests.empty());
  ASSERT_EQ(rec.give_ups.size(), 1u);
  EXPECT_EQ(rec.give_ups[0].when, at_ms(1000));
  EXPECT_EQ(cache.counters().resolution_requests, 1u);
}

TEST(ArpCacheRequests, SeveralNextHopsRetryInDeadlineOrder) {
  ArpLimits limits = small_limits();
  limits.request_attempts_max = 2;
  ArpCache cache(limits, kOwn);
  ASSERT_EQ(cache.enqueue(ip(3), datagram(1), at_ms(0)), Result::SendRequestNow);
  ASSERT_EQ(cache.enqueue(ip(2), datagram(2), at_ms(500)), Result::SendRequestNow);
  Recorder rec;
  rec.run_until(cache, Instant::never());
  ASSERT_EQ(rec.requests.size(), 2u);
  EXPECT_EQ(rec.requests[0], std::make_pair(ip(3), at_ms(1000)));
  EXPECT_EQ(rec.requests[1], std::make_pair(ip(2), at_ms(1500)));
  ASSERT_EQ(rec.give_ups.size(), 2u);
  EXPECT_EQ(rec.give_ups[0].ip, ip(3));
  EXPECT_EQ(rec.give_ups[0].when, at_ms(2000));
  EXPECT_EQ(rec.give_ups[1].ip, ip(2));
  EXPECT_EQ(rec.give_ups[1].when, at_ms(2500));
}

TEST(ArpCacheRequests, OnePollHandlesEveryDueEntryOnce) {
  // With a zero interval a retry is due again at once: it waits for the next
  // poll, so a poll cannot loop.
  ArpLimits limits = small_limits();
  limits.request_interval = Duration::zero();
  ArpCache cache(limits, kOwn);
  ASSERT_EQ(cache.enqueue(ip(2), datagram(1), at_ms(0)), Result::SendRequestNow);
  ASSERT_EQ(cache.enqueue(ip(3), datagram(2), at_ms(0)), Result::SendRequestNow);
  Recorder rec;
  rec.poll(cache, at_ms(0));
  EXPECT_EQ(rec.requests.size(), 2u);  // one each, address order on equal deadlines
  EXPECT_EQ(rec.requests[0].first, ip(2));
  EXPECT_EQ(rec.requests[1].first, ip(3));
  rec.poll(cache, at_ms(0));
  EXPECT_EQ(rec.requests.size(), 4u);
  EXPECT_TRUE(rec.give_ups.empty());
  rec.poll(cache, at_ms(0));
  EXPECT_EQ(rec.give_ups.size(), 2u);
}

TEST(ArpCacheRequests, CallbacksMayReenterTheCache) {
  ArpLimits limits = small_limits();
  limits.request_attempts_max = 1;
  ArpCache cache(limits, kOwn);
  ASSERT_EQ(cache.enqueue(ip(2), datagram(1), at_ms(0)), Result::SendRequestNow);
  ASSERT_EQ(cache.enqueue(ip(3), datagram(2), at_ms(0)), Result::SendRequestNow);
  std::vector<Result> inner;
  // Like a stack sending ICMP host unreachable from give_up.
  cache.poll(
      at_ms(1000), [](Ipv4Address) {},
      [&](Ipv4Address, std::size_t, Bytes first) {
        ASSERT_FALSE(first.empty());
        inner.push_back(cache.enqueue(ip(2), datagram(9), at_ms(1000)));
      });
  ASSERT_EQ(inner.size(), 2u);
  EXPECT_EQ(inner[0], Result::SendRequestNow);  // ip(2) was gone: a new resolution
  EXPECT_EQ(inner[1], Result::Queued);
  EXPECT_EQ(cache.queued_for(ip(2)), 2u);
  EXPECT_FALSE(cache.is_pending(ip(3)));
  EXPECT_EQ(cache.next_deadline(), at_ms(2000));
  expect_conservation(cache);
}

TEST(ArpCacheRequests, EmptyCallbacksAreAllowed) {
  ArpCache cache(small_limits(), kOwn);
  ASSERT_EQ(cache.enqueue(ip(2), datagram(1), at_ms(0)), Result::SendRequestNow);
  cache.poll(at_ms(1000), {}, {});
  cache.poll(at_ms(2000), {}, {});
  cache.poll(at_ms(3000), {}, {});
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.counters().pending_dropped_give_up, 1u);
}

// ---------------------------------------------------------------- release

TEST(ArpCacheRelease, LearnReleasesQueuedDatagramsInOrder) {
  ArpCache cache(small_limits(), kOwn);
  ASSERT_EQ(cache.enqueue(ip(2), datagram(1), at_ms(0)), Result::SendRequestNow);
  ASSERT_EQ(cache.enqueue(ip(2), datagram(2, 30), at_ms(1)), Result::Queued);
  ASSERT_EQ(cache.enqueue(ip(2), datagram(3, 40), at_ms(2)), Result::Queued);
  ASSERT_EQ(cache.enqueue(ip(3), datagram(4), at_ms(3)), Result::SendRequestNow);

  std::vector<ByteVector> released;
  released.push_back(datagram(0));  // learn appends
  cache.learn(ip(2), mac(2), at_ms(500), true, released);
  EXPECT_EQ(tags(released), (std::vector<std::uint8_t>{0, 1, 2, 3}));
  EXPECT_EQ(released[2].size(), 30u);
  EXPECT_EQ(released[3].size(), 40u);
  EXPECT_EQ(cache.lookup(ip(2), at_ms(500)), mac(2));
  EXPECT_FALSE(cache.is_pending(ip(2)));
  EXPECT_EQ(cache.pending_bytes(), 20u);  // ip(3)'s only
  EXPECT_EQ(cache.pending_packets(), 1u);
  EXPECT_EQ(cache.counters().resolutions, 1u);
  EXPECT_EQ(cache.counters().datagrams_released, 3u);
  EXPECT_EQ(cache.counters().entries_created, 0u);
  // ip(3)'s retry is the next deadline, then ip(2)'s expiry.
  EXPECT_EQ(cache.next_deadline(), at_ms(1003));
  expect_conservation(cache);

  // A resolved next hop no longer retries: only ip(3) asks again.
  Recorder rec;
  rec.poll(cache, at_ms(1003));
  ASSERT_EQ(rec.requests.size(), 1u);
  EXPECT_EQ(rec.requests[0].first, ip(3));
}

TEST(ArpCacheRelease, MergeResolvesAPendingEntryWithoutCreate) {
  // A broadcast request from the host we are resolving, targeted elsewhere:
  // the pending entry is in the table, so RFC 826 updates it.
  ArpCache cache(small_limits(), kOwn);
  ASSERT_EQ(cache.enqueue(ip(2), datagram(1), at_ms(0)), Result::SendRequestNow);
  std::vector<ByteVector> released;
  cache.learn(ip(2), mac(2), at_ms(10), false, released);
  EXPECT_EQ(tags(released), (std::vector<std::uint8_t>{1}));
  EXPECT_EQ(cache.lookup(ip(2), at_ms(10)), mac(2));
  EXPECT_EQ(cache.next_deadline(), at_ms(60'010));
}

TEST(ArpCacheRelease, ALaterLearnReleasesNothingMore) {
  ArpCache cache(small_limits(), kOwn);
  ASSERT_EQ(cache.enqueue(ip(2), datagram(1), at_ms(0)), Result::SendRequestNow);
  std::vector<ByteVector> released;
  cache.learn(ip(2), mac(2), at_ms(10), true, released);
  released.clear();
  cache.learn(ip(2), mac(2), at_ms(20), true, released);
  EXPECT_TRUE(released.empty());
  EXPECT_EQ(cache.counters().datagrams_released, 1u);
  EXPECT_EQ(cache.counters().entries_refreshed, 1u);
}

// ---------------------------------------------------------------- limits

TEST(ArpCacheLimits, PerNeighborQueueKeepsTheLatest) {
  // RFC 1122 2.3.2.2: save "at least one (the latest)": the oldest go.
  ArpCache cache(small_limits(), kOwn);  // 4 per neighbor
  EXPECT_EQ(cache.enqueue(ip(2), datagram(1), at_ms(0)), Result::SendRequestNow);
  for (std::uint8_t tag = 2; tag <= 6; ++tag) {
    EXPECT_EQ(cache.enqueue(ip(2), datagram(tag), at_ms(tag)), Result::Queued);
  }
  EXPECT_EQ(cache.queued_for(ip(2)), 4u);
  EXPECT_EQ(cache.pending_bytes(), 80u);
  EXPECT_EQ(cache.counters().pending_dropped_overflow, 2u);
  std::vector<ByteVector> released;
  cache.learn(ip(2), mac(2), at_ms(100), true, released);
  EXPECT_EQ(tags(released), (std::vector<std::uint8_t>{3, 4, 5, 6}));
  expect_conservation(cache);
}

TEST(ArpCacheLimits, ZeroPerNeighborQueueDropsEverything) {
  ArpLimits limits = small_limits();
  limits.pending_packets_per_neighbor_max = 0;
  ArpCache cache(limits, kOwn);
  EXPECT_EQ(cache.enqueue(ip(2), datagram(1), at_ms(0)), Result::Dropped);
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.counters().pending_dropped_overflow, 1u);
  expect_conservation(cache);
}

TEST(ArpCacheLimits, TotalBytesNeverTakeOtherNeighborsDatagrams) {
  ArpCache cache(small_limits(), kOwn);  // 1000 bytes in all
  ASSERT_EQ(cache.enqueue(ip(2), datagram(1, 600), at_ms(0)), Result::SendRequestNow);
  // 500 more would need ip(2)'s bytes: refused, and no entry is created.
  EXPECT_EQ(cache.enqueue(ip(3), datagram(2, 500), at_ms(1)), Result::Dropped);
  EXPECT_FALSE(cache.is_pending(ip(3)));
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.counters().pending_dropped_memory, 1u);
  EXPECT_EQ(cache.queued_for(ip(2)), 1u);
  // Exactly up to the limit fits.
  EXPECT_EQ(cache.enqueue(ip(3), datagram(3, 400), at_ms(2)), Result::SendRequestNow);
  EXPECT_EQ(cache.pending_bytes(), 1000u);
  // Full: a newer datagram for ip(3) replaces ip(3)'s older one.
  EXPECT_EQ(cache.enqueue(ip(3), datagram(4, 300), at_ms(3)), Result::Queued);
  EXPECT_EQ(cache.counters().pending_dropped_memory, 2u);
  EXPECT_EQ(cache.pending_bytes(), 900u);
  EXPECT_EQ(cache.queued_for(ip(2)), 1u);
  // One that does not fit even with ip(3)'s queue emptied is the one dropped.
  EXPECT_EQ(cache.enqueue(ip(3), datagram(5, 401), at_ms(4)), Result::Dropped);
  EXPECT_EQ(cache.counters().pending_dropped_memory, 3u);
  EXPECT_EQ(cache.queued_for(ip(3)), 1u);
  std::vector<ByteVector> released;
  cache.learn(ip(3), mac(3), at_ms(5), true, released);
  EXPECT_EQ(tags(released), (std::vector<std::uint8_t>{4}));
  expect_conservation(cache);
}

TEST(ArpCacheLimits, DatagramLargerThanAllQueuesIsDropped) {
  ArpCache cache(small_limits(), kOwn);
  EXPECT_EQ(cache.enqueue(ip(2), datagram(1, 1001), at_ms(0)), Result::Dropped);
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.pending_bytes(), 0u);
  EXPECT_EQ(cache.counters().pending_dropped_memory, 1u);
  EXPECT_EQ(cache.counters().resolution_requests, 0u);
  expect_conservation(cache);
}

TEST(ArpCacheLimits, FullTableEvictsLeastRecentlyUsed) {
  ArpLimits limits = small_limits();
  limits.cache_entries_max = 3;
  ArpCache cache(limits, kOwn);
  std::vector<ByteVector> released;
  cache.learn(ip(2), mac(2), at_ms(0), true, released);
  cache.learn(ip(3), mac(3), at_ms(1), true, released);
  cache.learn(ip(4), mac(4), at_ms(2), true, released);
  ASSERT_TRUE(cache.lookup(ip(2), at_ms(3)).has_value());  // use: order 3, 4, 2

  cache.learn(ip(5), mac(5), at_ms(4), true, released);  // evicts 3
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_FALSE(cache.lookup(ip(3), at_ms(4)).has_value());
  EXPECT_EQ(cache.counters().entries_evicted, 1u);

  cache.learn(ip(4), mac(4), at_ms(5), false, released);  // refresh: order 2, 5, 4
  cache.learn(ip(6), mac(6), at_ms(6), true, released);   // evicts 2
  EXPECT_FALSE(cache.lookup(ip(2), at_ms(6)).has_value());
  cache.learn(ip(7), mac(7), at_ms(7), true, released);   // evicts 5
  EXPECT_FALSE(cache.lookup(ip(5), at_ms(7)).has_value());
  EXPECT_TRUE(cache.lookup(ip(4), at_ms(7)).has_value());
  EXPECT_TRUE(cache.lookup(ip(6), at_ms(7)).has_value());
  EXPECT_TRUE(cache.lookup(ip(7), at_ms(7)).has_value());
  EXPECT_EQ(cache.counters().entries_evicted, 3u);
  EXPECT_EQ(cache.size(), 3u);
  // The evicted entries' expiries are gone with them: the next deadline is 4's.
  EXPECT_EQ(cache.next_deadline(), at_ms(60'005));
}

TEST(ArpCacheLimits, PendingEntriesAreNeverEvicted) {
  ArpLimits limits = small_limits();
  limits.cache_entries_max = 2;
  ArpCache cache(limits, kOwn);
  std::vector<ByteVector> released;
  ASSERT_EQ(cache.enqueue(ip(9), datagram(1), at_ms(0)), Result::SendRequestNow);
  cache.learn(ip(2), mac(2), at_ms(1), true, released);
  cache.learn(ip(3), mac(3), at_ms(2), true, released);  // evicts 2, not the pending 9
  EXPECT_TRUE(cache.is_pending(ip(9)));
  EXPECT_FALSE(cache.lookup(ip(2), at_ms(2)).has_value());
  EXPECT_TRUE(cache.lookup(ip(3), at_ms(2)).has_value());

  // A new next hop evicts the resolved 3 as well.
  EXPECT_EQ(cache.enqueue(ip(8), datagram(2), at_ms(3)), Result::SendRequestNow);
  EXPECT_FALSE(cache.lookup(ip(3), at_ms(3)).has_value());
  EXPECT_EQ(cache.counters().entries_evicted, 2u);
  EXPECT_EQ(cache.pending_neighbors(), 2u);

  // All pending: newcomers are refused, queued datagrams stay.
  EXPECT_EQ(cache.enqueue(ip(7), datagram(3), at_ms(4)), Result::Dropped);
  EXPECT_EQ(cache.counters().pending_dropped_table_full, 1u);
  cache.learn(ip(6), mac(6), at_ms(5), true, released);
  EXPECT_EQ(cache.counters().learn_dropped_table_full, 1u);
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(cache.pending_packets(), 2u);
  // Existing pending next hops still take datagrams.
  EXPECT_EQ(cache.enqueue(ip(8), datagram(4), at_ms(6)), Result::Queued);
  EXPECT_TRUE(released.empty());
  expect_conservation(cache);
}

TEST(ArpCacheLimits, ZeroEntriesStoresNothing) {
  ArpLimits limits = small_limits();
  limits.cache_entries_max = 0;
  ArpCache cache(limits, kOwn);
  std::vector<ByteVector> released;
  cache.learn(ip(2), mac(2), at_ms(0), true, released);
  EXPECT_EQ(cache.enqueue(ip(3), datagram(1), at_ms(0)), Result::Dropped);
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.counters().learn_dropped_table_full, 1u);
  EXPECT_EQ(cache.counters().pending_dropped_table_full, 1u);
}

// ---------------------------------------------------------------- counters

TEST(ArpCacheCounters, VisitNamesEveryCounterOnce) {
  ArpCache cache(small_limits(), kOwn);
  cache.counters().replies_sent = 7;  // the caller's share is writable
  std::set<std::string> names;
  std::uint64_t replies = 0;
  std::size_t calls = 0;
  cache.counters().visit([&](std::string_view name, std::uint64_t value) {
    names.emplace(name);
    ++calls;
    if (name == "replies_sent") {
      replies = value;
    }
  });
  EXPECT_EQ(names.size(), calls);
  EXPECT_EQ(calls, sizeof(ArpCounters) / sizeof(std::uint64_t));
  EXPECT_EQ(replies, 7u);
  EXPECT_TRUE(names.count("conflicting_own_address"));
  EXPECT_TRUE(names.count("pending_dropped_give_up"));
}

}  // namespace
}  // namespace tapstack::link
