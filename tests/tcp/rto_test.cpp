#include "stack/tcp/rto.hpp"

#include <gtest/gtest.h>

namespace tapstack::tcp {
namespace {

Duration ms(std::int64_t n) { return Duration::milliseconds(n); }
Duration us(std::int64_t n) { return Duration::microseconds(n); }

TEST(Rto, InitialIsOneSecond) {  // RFC 6298 2.1
  RtoEstimator rto;
  EXPECT_FALSE(rto.has_sample());
  EXPECT_EQ(rto.rto(), Duration::seconds(1));
  EXPECT_EQ(rto.srtt(), Duration::zero());
  EXPECT_EQ(rto.rttvar(), Duration::zero());
}

TEST(Rto, InitialIsConfigurable) {
  RtoConfig config;
  config.initial_rto = Duration::seconds(3);
  EXPECT_EQ(RtoEstimator(config).rto(), Duration::seconds(3));
}

// RFC 6298 2.2: SRTT = R, RTTVAR = R/2, RTO = SRTT + max(G, 4*RTTVAR).
TEST(Rto, FirstSample) {
  RtoEstimator rto;
  rto.on_sample(ms(100));
  EXPECT_TRUE(rto.has_sample());
  EXPECT_EQ(rto.srtt(), ms(100));
  EXPECT_EQ(rto.rttvar(), ms(50));
  EXPECT_EQ(rto.rto(), ms(300));  // 100 + 4*50
}

// RFC 6298 2.3, by hand:
//   R'=200: RTTVAR = 3/4*50 + 1/4*|100-200| = 62.5;  SRTT = 7/8*100 + 1/8*200 = 112.5
//           RTO = 112.5 + 4*62.5 = 362.5 ms
//   R'=100: RTTVAR = 3/4*62.5 + 1/4*12.5 = 50;       SRTT = 7/8*112.5 + 1/8*100 = 110.9375
//           RTO = 110.9375 + 200 = 310.9375 ms
TEST(Rto, LaterSamples) {
  RtoEstimator rto;
  rto.on_sample(ms(100));
  rto.on_sample(ms(200));
  EXPECT_EQ(rto.rttvar(), us(62'500));
  EXPECT_EQ(rto.srtt(), us(112'500));
  EXPECT_EQ(rto.rto(), us(362'500));
  rto.on_sample(ms(100));
  EXPECT_EQ(rto.rttvar(), ms(50));
  EXPECT_EQ(rto.srtt(), Duration::nanoseconds(110'937'500));
  EXPECT_EQ(rto.rto(), Duration::nanoseconds(310'937'500));
}

// RTTVAR uses the SRTT from before this sample (2.3 "in that order").
TEST(Rto, VarianceUsesTheOldSrtt) {
  RtoEstimator rto;
  rto.on_sample(ms(800));  // SRTT 800, RTTVAR 400
  rto.on_sample(ms(0));    // |800 - 0| = 800: RTTVAR = 300 + 200 = 500; SRTT = 700
  EXPECT_EQ(rto.rttvar(), ms(500));
  EXPECT_EQ(rto.srtt(), ms(700));
  EXPECT_EQ(rto.rto(), ms(2'700));
}

TEST(Rto, SteadySamplesShrinkTheVariance) {
  RtoEstimator rto;
  rto.on_sample(ms(100));
  rto.on_sample(ms(100));  // RTTVAR 37.5
  EXPECT_EQ(rto.rttvar(), us(37'500));
  rto.on_sample(ms(100));  // RTTVAR 28.125
  EXPECT_EQ(rto.rttvar(), us(28'125));
  EXPECT_EQ(rto.srtt(), ms(100));
  EXPECT_EQ(rto.rto(), us(212'500));  // 100 + 112.5
}

TEST(Rto, MinimumDefaultsTo200Ms) {
  RtoEstimator rto;
  rto.on_sample(ms(10));  // 10 + 20 = 30 ms, floored
  EXPECT_EQ(rto.rto(), ms(200));
}

TEST(Rto, MinimumIsConfigurable) {
  RtoConfig config;
  config.min_rto = Duration::zero();
  RtoEstimator rto(config);
  rto.on_sample(ms(10));
  EXPECT_EQ(rto.rto(), ms(30));
  config.min_rto = Duration::seconds(1);  // RFC 6298 2.4's own value
  RtoEstimator strict(config);
  strict.on_sample(ms(10));
  EXPECT_EQ(strict.rto(), Duration::seconds(1));
}

// G bounds the variance term from below: RTO = SRTT + max(G, K*RTTVAR).
TEST(Rto, ClockGranularityBoundsTheVarianceTerm) {
  RtoConfig config;
  config.min_rto = Duration::zero();
  config.clock_granularity = ms(10);
  RtoEstimator rto(config);
  rto.on_sample(ms(1));  // 4*RTTVAR = 2 ms < G
  EXPECT_EQ(rto.rto(), ms(11));
  config.clock_granularity = ms(1);
  RtoEstimator fine(config);
  fine.on_sample(ms(1));
  EXPECT_EQ(fine.rto(), ms(3));
}

TEST(Rto, MaximumIs60Seconds) {  // RFC 6298 2.5
  RtoEstimator rto;
  rto.on_sample(Duration::seconds(50));  // 50 + 100 s
  EXPECT_EQ(rto.rto(), Duration::seconds(60));
}

TEST(Rto, MaximumWinsOverAMisconfiguredMinimum) {
  RtoConfig config;
  config.min_rto = Duration::seconds(100);
  EXPECT_EQ(RtoEstimator(config).rto(), Duration::seconds(60));
}

// RFC 6298 5.5: double on every expiry, up to the maximum.
TEST(Rto, BackoffDoublesUpToTheMaximum) {
  RtoEstimator rto;
  const std::int64_t expected_s[] = {2, 4, 8, 16, 32, 60, 60, 60};
  for (std::int64_t s : expected_s) {
    rto.backoff();
    EXPECT_EQ(rto.rto(), Duration::seconds(s));
  }
  EXPECT_EQ(rto.backoff_count(), 8u);
  for (int i = 0; i < 1000; ++i) {
    rto.backoff();
  }
  EXPECT_EQ(rto.rto(), Duration::seconds(60));
}

TEST(Rto, ResetBackoffReturnsToTheComputedRto) {
  RtoEstimator rto;
  rto.on_sample(ms(100));
  rto.backoff();
  rto.backoff();
  EXPECT_EQ(rto.rto(), ms(1'200));
  EXPECT_EQ(rto.backoff_count(), 2u);
  rto.reset_backoff();
  EXPECT_EQ(rto.rto(), ms(300));
  EXPECT_EQ(rto.backoff_count(), 0u);
  // Estimates are untouched by backoff.
  EXPECT_EQ(rto.srtt(), ms(100));
  EXPECT_EQ(rto.rttvar(), ms(50));
}

TEST(Rto, ResetBackoffBeforeAnySampleGivesTheInitialRto) {
  RtoEstimator rto;
  rto.backoff();
  rto.reset_backoff();
  EXPECT_EQ(rto.rto(), Duration::seconds(1));
}

// A new sample recomputes the RTO from the estimates, ending the backoff.
TEST(Rto, SampleEndsTheBackoff) {
  RtoEstimator rto;
  rto.backoff();
  rto.backoff();
  rto.on_sample(ms(100));
  EXPECT_EQ(rto.rto(), ms(300));
  EXPECT_EQ(rto.backoff_count(), 0u);
}

TEST(Rto, NegativeAndHugeSamplesAreClamped) {
  RtoEstimator rto;
  rto.on_sample(Duration::nanoseconds(-5));
  EXPECT_EQ(rto.srtt(), Duration::zero());
  EXPECT_EQ(rto.rto(), ms(200));  // 0 + G (1 ms), floored
  RtoEstimator huge;
  huge.on_sample(Duration::max());
  EXPECT_EQ(huge.srtt(), RtoEstimator::kMaxSample);
  EXPECT_EQ(huge.rto(), Duration::seconds(60));
  huge.on_sample(Duration::max());
  EXPECT_EQ(huge.srtt(), RtoEstimator::kMaxSample);
}

TEST(Rto, SameSamplesGiveTheSameRto) {
  RtoEstimator a;
  RtoEstimator b;
  const std::int64_t samples_us[] = {12'345, 99'999, 3, 250'001, 77'777, 140'000};
  for (std::int64_t s : samples_us) {
    a.on_sample(us(s));
    b.on_sample(us(s));
    EXPECT_EQ(a.rto(), b.rto());
    EXPECT_EQ(a.srtt(), b.srtt());
  }
}

}  // namespace
}  // namespace tapstack::tcp
