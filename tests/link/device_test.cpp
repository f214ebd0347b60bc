#include "stack/link/device.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <utility>
#include <vector>

namespace tapstack::link {
namespace {

// An ARP request from a Linux host (captured), Ethernet header first.
const ByteVector kArpFrame = bytes_from_hex(
    "ff ff ff ff ff ff 02 00 0a 00 00 01 08 06"
    "00 01 08 00 06 04 00 01 02 00 0a 00 00 01 0a 00 00 01 00 00 00 00 00 00 0a 00 00 02");

// A frame of `len` bytes: a unicast Ethernet header (IPv4 EtherType), then a
// payload whose bytes count up from `seed`, so frames are distinguishable.
ByteVector make_frame(std::size_t len, std::uint8_t seed = 0) {
  ByteVector frame(len);
  const ByteVector header = bytes_from_hex("02 00 0a 00 00 02 02 00 0a 00 00 01 08 00");
  for (std::size_t i = 0; i < len; ++i) {
    frame[i] = i < header.size() ? header[i] : static_cast<std::byte>(seed + i);
  }
  return frame;
}

QueueDeviceConfig small_queues(std::size_t tx, std::size_t rx) {
  QueueDeviceConfig config;
  config.tx_queue_frames = tx;
  config.rx_queue_frames = rx;
  return config;
}

// ---- FrameBatch ----

TEST(FrameBatch, StartsEmptyWithItsCapacity) {
  FrameBatch batch(4, 100);
  EXPECT_EQ(batch.capacity(), 4u);
  EXPECT_EQ(batch.slot_len(), 100u);
  EXPECT_EQ(batch.size(), 0u);
  EXPECT_TRUE(batch.empty());
  EXPECT_FALSE(batch.full());
  EXPECT_EQ(batch.remaining(), 4u);
  EXPECT_TRUE(batch.frames().empty());
}

TEST(FrameBatch, DefaultHoldsPlainFramesOfTheDefaultMtu) {
  FrameBatch batch;
  EXPECT_EQ(batch.capacity(), FrameBatch::kDefaultCapacity);
  EXPECT_EQ(batch.slot_len(), 1514u);
}

TEST(FrameBatch, PushCopiesFramesInOrder) {
  FrameBatch batch(3, kDefaultMaxFrameLen);
  ByteVector first = make_frame(60, 1);
  const ByteVector second = make_frame(1514, 2);
  ASSERT_TRUE(batch.push(as_bytes(first)));
  ASSERT_TRUE(batch.push(as_bytes(second)));
  // The batch holds copies: changing the source changes nothing.
  first[20] = std::byte{0xee};
  ASSERT_EQ(batch.size(), 2u);
  EXPECT_EQ(ByteVector(batch[0].data.begin(), batch[0].data.end()), make_frame(60, 1));
  EXPECT_EQ(ByteVector(batch[1].data.begin(), batch[1].data.end()), second);
  EXPECT_TRUE(batch[0].offload.is_plain());
}

TEST(FrameBatch, PushRefusesWhenFullOrTooLong) {
  FrameBatch batch(2, 100);
  EXPECT_FALSE(batch.push(as_bytes(make_frame(101))));
  EXPECT_TRUE(batch.empty());
  EXPECT_TRUE(batch.push(as_bytes(make_frame(100))));
  EXPECT_TRUE(batch.push(as_bytes(make_frame(14))));
  EXPECT_TRUE(batch.full());
  EXPECT_EQ(batch.remaining(), 0u);
  EXPECT_FALSE(batch.push(as_bytes(make_frame(20))));
  EXPECT_EQ(batch.size(), 2u);
}

TEST(FrameBatch, NextSlotAndCommitAppendInPlace) {
  FrameBatch batch(2, 64);
  MutableBytes slot = batch.next_slot();
  ASSERT_EQ(slot.size(), 64u);
  for (std::size_t i = 0; i < kArpFrame.size(); ++i) {
    slot[i] = kArpFrame[i];
  }
  EXPECT_TRUE(batch.empty());  // nothing is added before commit
  FrameOffload offload;
  offload.checksum_verified = true;
  batch.commit(kArpFrame.size(), offload);
  ASSERT_EQ(batch.size(), 1u);
  EXPECT_EQ(ByteVector(batch[0].data.begin(), batch[0].data.end()), kArpFrame);
  EXPECT_TRUE(batch[0].offload.checksum_verified);
  // The frame's view is the slot's storage: no copy was made.
  EXPECT_EQ(batch[0].data.data(), slot.data());
  // The next slot does not overlap the first.
  EXPECT_EQ(batch.next_slot().data(), slot.data() + 64);
}

TEST(FrameBatch, ClearKeepsTheStorage) {
  FrameBatch batch(2, 64);
  ASSERT_TRUE(batch.push(as_bytes(kArpFrame)));
  const std::byte* storage = batch[0].data.data();
  batch.clear();
  EXPECT_TRUE(batch.empty());
  EXPECT_EQ(batch.remaining(), 2u);
  ASSERT_TRUE(batch.push(as_bytes(make_frame(30))));
  EXPECT_EQ(batch[0].data.data(), storage);
}

TEST(FrameBatch, MutableDataRewritesAFrameInPlace) {
  FrameBatch batch(1, 64);
  ASSERT_TRUE(batch.push(as_bytes(kArpFrame)));
  MutableBytes data = batch.mutable_data(0);
  ASSERT_EQ(data.size(), kArpFrame.size());
  data[0] = std::byte{0x01};
  EXPECT_EQ(batch[0].data[0], std::byte{0x01});
}

TEST(FrameBatch, MovingKeepsFrameViewsValid) {
  FrameBatch batch(2, 64);
  ASSERT_TRUE(batch.push(as_bytes(kArpFrame)));
  FrameBatch moved = std::move(batch);
  ASSERT_EQ(moved.size(), 1u);
  EXPECT_EQ(ByteVector(moved[0].data.begin(), moved[0].data.end()), kArpFrame);
}

TEST(FrameBatch, IteratesFrames) {
  FrameBatch batch(3, 64);
  ASSERT_TRUE(batch.push(as_bytes(make_frame(20))));
  ASSERT_TRUE(batch.push(as_bytes(make_frame(30))));
  std::vector<std::size_t> lengths;
  for (const Frame& frame : batch) {
    lengths.push_back(frame.data.size());
  }
  EXPECT_EQ(lengths, (std::vector<std::size_t>{20, 30}));
}

TEST(FrameBatchDeath, CommitPastCapacityAborts) {
  FrameBatch batch(1, 64);
  batch.commit(20);
  EXPECT_DEATH(batch.commit(20), "");
}

TEST(FrameBatchDeath, CommitBeyondTheSlotAborts) {
  FrameBatch batch(1, 64);
  EXPECT_DEATH(batch.commit(65), "");
}

// ---- Device basics, on QueueDevice ----

TEST(QueueDevice, ReportsAddressMtuAndNoOffloads) {
  QueueDeviceConfig config;
  config.mac = wire::MacAddress{{0x02, 0x00, 0x0a, 0x00, 0x00, 0x02}};
  config.max_batch = 16;
  QueueDevice device(config);
  EXPECT_EQ(device.mac().to_string(), "02:00:0a:00:00:02");
  EXPECT_EQ(device.mtu(), 1500u);
  EXPECT_EQ(device.max_frame_len(), 1514u);
  EXPECT_EQ(device.rx_buffer_len(), 1514u);
  const DeviceCapabilities caps = device.capabilities();
  EXPECT_EQ(caps.max_batch, 16u);
  EXPECT_FALSE(caps.rx_checksum_verified);
  EXPECT_FALSE(caps.tx_checksum_offload);
  EXPECT_EQ(caps.tso_max_size, 0u);
  EXPECT_EQ(caps.lro_max_size, 0u);
  EXPECT_FALSE(caps.vnet_header);
  EXPECT_EQ(device.counters(), DeviceCounters{});
}

TEST(QueueDevice, MaxFrameLenFollowsTheMtu) {
  QueueDeviceConfig config;
  config.mtu = 9000;
  QueueDevice device(config);
  EXPECT_EQ(device.max_frame_len(), 9014u);
  EXPECT_TRUE(device.transmit(as_bytes(make_frame(9014))).value());
  auto too_long = device.transmit(as_bytes(make_frame(9015)));
  ASSERT_FALSE(too_long.ok());
  EXPECT_EQ(too_long.error(), DeviceError::FrameTooLong);
}

TEST(QueueDevice, TransmitKeepsACopyOfTheFrame) {
  QueueDevice device;
  ByteVector frame = kArpFrame;
  auto taken = device.transmit(as_bytes(frame));
  ASSERT_TRUE(taken.ok());
  EXPECT_TRUE(*taken);
  frame[0] = std::byte{0};  // the caller may reuse its buffer at once
  ASSERT_EQ(device.transmitted().size(), 1u);
  EXPECT_EQ(device.transmitted()[0], kArpFrame);
  const DeviceCounters c = device.counters();
  EXPECT_EQ(c.tx_frames, 1u);
  EXPECT_EQ(c.tx_bytes, kArpFrame.size());
}

TEST(QueueDevice, PopTransmittedReturnsOldestFirst) {
  QueueDevice device;
  ASSERT_TRUE(device.transmit(as_bytes(make_frame(60, 1))).value());
  ASSERT_TRUE(device.transmit(as_bytes(make_frame(61, 2))).value());
  EXPECT_EQ(device.pop_transmitted(), make_frame(60, 1));
  EXPECT_EQ(device.pop_transmitted(), make_frame(61, 2));
  EXPECT_EQ(device.pop_transmitted(), std::nullopt);
}

TEST(QueueDevice, LargestPlainFrameIsTaken) {
  QueueDevice device;
  EXPECT_TRUE(device.transmit(as_bytes(make_frame(1514))).value());
  EXPECT_TRUE(device.transmit(as_bytes(make_frame(14))).value());
  EXPECT_EQ(device.counters().tx_frames, 2u);
}

TEST(QueueDevice, TooLongFrameIsAnError) {
  QueueDevice device;
  auto taken = device.transmit(as_bytes(make_frame(1515)));
  ASSERT_FALSE(taken.ok());
  EXPECT_EQ(taken.error(), DeviceError::FrameTooLong);
  EXPECT_TRUE(device.transmitted().empty());
  EXPECT_EQ(device.counters().tx_invalid, 1u);
  EXPECT_EQ(device.counters().tx_frames, 0u);
}

TEST(QueueDevice, TooShortFrameIsAnError) {
  QueueDevice device;
  auto taken = device.transmit(as_bytes(make_frame(13)));
  ASSERT_FALSE(taken.ok());
  EXPECT_EQ(taken.error(), DeviceError::FrameTooShort);
  EXPECT_EQ(device.counters().tx_invalid, 1u);
}

TEST(QueueDevice, OffloadMetadataIsUnsupported) {
  QueueDevice device;
  const ByteVector frame = make_frame(100);
  FrameOffload csum;
  csum.needs_checksum = true;
  csum.checksum_start = 34;
  csum.checksum_offset = 16;
  FrameOffload gso = csum;
  gso.gso_type = GsoType::TcpV4;
  gso.gso_size = 1448;
  FrameOffload verified;
  verified.checksum_verified = true;
  for (const FrameOffload& offload : {csum, gso, verified}) {
    auto taken = device.transmit(Frame{as_bytes(frame), offload});
    ASSERT_FALSE(taken.ok());
    EXPECT_EQ(taken.error(), DeviceError::OffloadUnsupported);
  }
  EXPECT_EQ(device.counters().tx_invalid, 3u);
  EXPECT_TRUE(device.transmitted().empty());
}

TEST(QueueDevice, FullTransmitQueueRefusesWithoutError) {
  QueueDevice device(small_queues(2, 8));
  ASSERT_TRUE(device.transmit(as_bytes(make_frame(60, 1))).value());
  ASSERT_TRUE(device.transmit(as_bytes(make_frame(60, 2))).value());
  auto refused = device.transmit(as_bytes(make_frame(60, 3)));
  ASSERT_TRUE(refused.ok());
  EXPECT_FALSE(*refused);
  EXPECT_EQ(device.transmitted().size(), 2u);
  EXPECT_EQ(device.counters().tx_full, 1u);
  EXPECT_EQ(device.counters().tx_frames, 2u);
  // Popping frees room: the refused frame can be offered again.
  ASSERT_TRUE(device.pop_transmitted().has_value());
  EXPECT_TRUE(device.transmit(as_bytes(make_frame(60, 3))).value());
  EXPECT_EQ(device.transmitted().back(), make_frame(60, 3));
}

TEST(QueueDevice, ClearTransmittedFreesTheQueue) {
  QueueDevice device(small_queues(1, 8));
  ASSERT_TRUE(device.transmit(as_bytes(make_frame(60))).value());
  EXPECT_FALSE(device.transmit(as_bytes(make_frame(60))).value());
  device.clear_transmitted();
  EXPECT_TRUE(device.transmit(as_bytes(make_frame(60))).value());
}

// ---- Batch transmit ----

TEST(QueueDevice, TransmitBatchTakesAllWhenThereIsRoom) {
  QueueDevice device;
  const std::array frames_data{make_frame(60, 1), make_frame(70, 2), make_frame(80, 3)};
  std::vector<Frame> frames;
  for (const ByteVector& f : frames_data) {
    frames.push_back(Frame{as_bytes(f)});
  }
  auto taken = device.transmit_batch(frames);
  ASSERT_TRUE(taken.ok());
  EXPECT_EQ(*taken, 3u);
  ASSERT_EQ(device.transmitted().size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(device.transmitted()[i], frames_data[i]);
  }
  EXPECT_EQ(device.counters().tx_bytes, 210u);
}

TEST(QueueDevice, TransmitBatchTakesAPrefixWhenNearlyFull) {
  QueueDevice device(small_queues(2, 8));
  const std::array frames_data{make_frame(60, 1), make_frame(60, 2), make_frame(60, 3), make_frame(60, 4),
                               make_frame(60, 5)};
  std::vector<Frame> frames;
  for (const ByteVector& f : frames_data) {
    frames.push_back(Frame{as_bytes(f)});
  }
  auto taken = device.transmit_batch(frames);
  ASSERT_TRUE(taken.ok());
  EXPECT_EQ(*taken, 2u);
  EXPECT_EQ(device.transmitted()[0], frames_data[0]);
  EXPECT_EQ(device.transmitted()[1], frames_data[1]);
  EXPECT_EQ(device.counters().tx_full, 3u);
  // Full: nothing more is taken, still without error.
  auto none = device.transmit_batch(std::span<const Frame>(frames).subspan(2));
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, 0u);
  EXPECT_EQ(device.counters().tx_full, 6u);
}

TEST(QueueDevice, TransmitBatchStopsBeforeAnInvalidFrameAndReportsItNext) {
  QueueDevice device;
  const ByteVector good1 = make_frame(60, 1);
  const ByteVector bad = make_frame(2000);
  const ByteVector good2 = make_frame(60, 2);
  const std::vector<Frame> frames{Frame{as_bytes(good1)}, Frame{as_bytes(bad)}, Frame{as_bytes(good2)}};
  auto taken = device.transmit_batch(frames);
  ASSERT_TRUE(taken.ok());
  EXPECT_EQ(*taken, 1u);
  EXPECT_EQ(device.counters().tx_invalid, 0u);  // not yet reported
  // The caller resumes at the first frame not taken: now the error shows.
  auto again = device.transmit_batch(std::span<const Frame>(frames).subspan(*taken));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error(), DeviceError::FrameTooLong);
  EXPECT_EQ(device.counters().tx_invalid, 1u);
  // Skipping the bad frame, the rest goes.
  auto rest = device.transmit_batch(std::span<const Frame>(frames).subspan(2));
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ(*rest, 1u);
  ASSERT_EQ(device.transmitted().size(), 2u);
  EXPECT_EQ(device.transmitted()[1], good2);
}

TEST(QueueDevice, EmptyTransmitBatchTakesNothing) {
  QueueDevice device;
  auto taken = device.transmit_batch({});
  ASSERT_TRUE(taken.ok());
  EXPECT_EQ(*taken, 0u);
  EXPECT_EQ(device.counters(), DeviceCounters{});
}

// ---- Inject and receive ----

TEST(QueueDevice, ReceiveReturnsInjectedFramesInOrder) {
  QueueDevice device;
  ASSERT_TRUE(device.inject(as_bytes(kArpFrame)));
  ASSERT_TRUE(device.inject(as_bytes(make_frame(1514, 7))));
  EXPECT_EQ(device.rx_pending(), 2u);
  FrameBatch batch;
  auto received = device.receive(batch);
  ASSERT_TRUE(received.ok());
  EXPECT_EQ(*received, 2u);
  ASSERT_EQ(batch.size(), 2u);
  EXPECT_EQ(ByteVector(batch[0].data.begin(), batch[0].data.end()), kArpFrame);
  EXPECT_EQ(ByteVector(batch[1].data.begin(), batch[1].data.end()), make_frame(1514, 7));
  EXPECT_TRUE(batch[0].offload.is_plain());
  EXPECT_EQ(device.rx_pending(), 0u);
  const DeviceCounters c = device.counters();
  EXPECT_EQ(c.rx_frames, 2u);
  EXPECT_EQ(c.rx_bytes, kArpFrame.size() + 1514);
}

TEST(QueueDevice, ReceiveWithNothingWaitingReturnsZero) {
  QueueDevice device;
  FrameBatch batch;
  auto received = device.receive(batch);
  ASSERT_TRUE(received.ok());
  EXPECT_EQ(*received, 0u);
  EXPECT_TRUE(batch.empty());
}

TEST(QueueDevice, ReceiveFillsAtMostTheBatchAndLeavesTheRestWaiting) {
  QueueDevice device;
  for (std::uint8_t i = 0; i < 5; ++i) {
    ASSERT_TRUE(device.inject(as_bytes(make_frame(60, i))));
  }
  FrameBatch batch(3, kDefaultMaxFrameLen);
  EXPECT_EQ(device.receive(batch).value(), 3u);
  EXPECT_EQ(device.rx_pending(), 2u);
  // A full batch takes nothing more.
  EXPECT_EQ(device.receive(batch).value(), 0u);
  batch.clear();
  EXPECT_EQ(device.receive(batch).value(), 2u);
  EXPECT_EQ(ByteVector(batch[0].data.begin(), batch[0].data.end()), make_frame(60, 3));
  EXPECT_EQ(ByteVector(batch[1].data.begin(), batch[1].data.end()), make_frame(60, 4));
}

TEST(QueueDevice, ReceiveAppendsAfterFramesAlreadyInTheBatch) {
  QueueDevice device;
  FrameBatch batch(4, kDefaultMaxFrameLen);
  ASSERT_TRUE(batch.push(as_bytes(make_frame(20, 9))));
  ASSERT_TRUE(device.inject(as_bytes(kArpFrame)));
  EXPECT_EQ(device.receive(batch).value(), 1u);
  ASSERT_EQ(batch.size(), 2u);
  EXPECT_EQ(ByteVector(batch[0].data.begin(), batch[0].data.end()), make_frame(20, 9));
  EXPECT_EQ(ByteVector(batch[1].data.begin(), batch[1].data.end()), kArpFrame);
}

TEST(QueueDevice, ReceiveIntoTooSmallSlotsIsAnError) {
  QueueDevice device;
  ASSERT_TRUE(device.inject(as_bytes(kArpFrame)));
  FrameBatch batch(4, 1513);
  auto received = device.receive(batch);
  ASSERT_FALSE(received.ok());
  EXPECT_EQ(received.error(), DeviceError::BufferTooSmall);
  EXPECT_EQ(device.rx_pending(), 1u);  // nothing lost
}

TEST(QueueDevice, FullReceiveQueueDropsAndCounts) {
  QueueDevice device(small_queues(8, 2));
  EXPECT_TRUE(device.inject(as_bytes(make_frame(60, 1))));
  EXPECT_TRUE(device.inject(as_bytes(make_frame(60, 2))));
  EXPECT_FALSE(device.inject(as_bytes(make_frame(60, 3))));
  EXPECT_FALSE(device.inject(as_bytes(make_frame(60, 4))));
  EXPECT_EQ(device.counters().rx_dropped, 2u);
  EXPECT_EQ(device.rx_pending(), 2u);
  FrameBatch batch;
  EXPECT_EQ(device.receive(batch).value(), 2u);
  // The oldest frames were kept, the newest dropped (tail drop).
  EXPECT_EQ(ByteVector(batch[1].data.begin(), batch[1].data.end()), make_frame(60, 2));
  // Room again.
  EXPECT_TRUE(device.inject(as_bytes(make_frame(60, 5))));
}

TEST(QueueDevice, MalformedInjectedFramesAreDroppedAsInvalid) {
  QueueDevice device;
  EXPECT_FALSE(device.inject(as_bytes(make_frame(13))));
  EXPECT_FALSE(device.inject(as_bytes(make_frame(1515))));
  EXPECT_TRUE(device.inject(as_bytes(make_frame(14))));
  EXPECT_TRUE(device.inject(as_bytes(make_frame(1514))));
  EXPECT_EQ(device.counters().rx_invalid, 2u);
  EXPECT_EQ(device.counters().rx_dropped, 0u);
  EXPECT_EQ(device.rx_pending(), 2u);
}

TEST(QueueDevice, FramesCanBeForwardedFromABatchToAnotherDevice) {
  // What a simulated link does: drain one device, transmit the batch on another.
  QueueDevice a;
  QueueDevice b;
  ASSERT_TRUE(a.inject(as_bytes(make_frame(60, 1))));
  ASSERT_TRUE(a.inject(as_bytes(make_frame(70, 2))));
  FrameBatch batch;
  ASSERT_EQ(a.receive(batch).value(), 2u);
  EXPECT_EQ(b.transmit_batch(batch.frames()).value(), 2u);
  EXPECT_EQ(b.transmitted()[1], make_frame(70, 2));
}

// ---- Offload validation for capable devices ----

// A QueueDevice that claims offloads, to check Device::validate_tx's rules.
class OffloadingDevice : public QueueDevice {
 public:
  DeviceCapabilities capabilities() const override {
    DeviceCapabilities caps = QueueDevice::capabilities();
    caps.tx_checksum_offload = true;
    caps.tso_max_size = 65536;
    return caps;
  }
  std::optional<DeviceError> check(const Frame& frame) const { return validate_tx(frame); }
};

TEST(DeviceValidateTx, ChecksumOffloadNeedsTheFieldInsideTheFrame) {
  OffloadingDevice device;
  const ByteVector frame = make_frame(54);  // Ethernet + IPv4 + TCP, no payload
  FrameOffload csum;
  csum.needs_checksum = true;
  csum.checksum_start = 34;
  csum.checksum_offset = 16;
  EXPECT_EQ(device.check(Frame{as_bytes(frame), csum}), std::nullopt);
  csum.checksum_offset = 19;  // field would end at 55 > 54
  EXPECT_EQ(device.check(Frame{as_bytes(frame), csum}), DeviceError::OffloadUnsupported);
}

TEST(DeviceValidateTx, GsoFramesAreBoundedByTsoMaxSize) {
  OffloadingDevice device;
  FrameOffload gso;
  gso.needs_checksum = true;
  gso.checksum_start = 34;
  gso.checksum_offset = 16;
  gso.gso_type = GsoType::TcpV4;
  gso.gso_size = 1448;
  const ByteVector large = make_frame(65536);
  const ByteVector too_large = make_frame(65537);
  EXPECT_EQ(device.check(Frame{as_bytes(large), gso}), std::nullopt);
  EXPECT_EQ(device.check(Frame{as_bytes(too_large), gso}), DeviceError::FrameTooLong);
  // A plain frame is still bounded by the MTU.
  EXPECT_EQ(device.check(Frame{as_bytes(large)}), DeviceError::FrameTooLong);
  // GSO without a segment size, or without checksum offload, is malformed.
  FrameOffload no_size = gso;
  no_size.gso_size = 0;
  EXPECT_EQ(device.check(Frame{as_bytes(large), no_size}), DeviceError::OffloadUnsupported);
  FrameOffload no_csum = gso;
  no_csum.needs_checksum = false;
  EXPECT_EQ(device.check(Frame{as_bytes(large), no_csum}), DeviceError::OffloadUnsupported);
}

// ---- Decorators ----

// Overrides only transmit_batch: counts what passes, forwards the rest.
class CountingDecorator : public DeviceDecorator {
 public:
  using DeviceDecorator::DeviceDecorator;
  Result<std::size_t, DeviceError> transmit_batch(std::span<const Frame> frames) override {
    offered += frames.size();
    return DeviceDecorator::transmit_batch(frames);
  }
  std::size_t offered = 0;
};

TEST(DeviceDecorator, ForwardsEverythingToTheWrappedDevice) {
  QueueDeviceConfig config = small_queues(1, 4);
  config.mac = wire::MacAddress{{0x02, 0, 0, 0, 0, 9}};
  config.mtu = 1400;
  config.max_batch = 8;
  QueueDevice inner(config);
  DeviceDecorator decorator(inner);
  EXPECT_EQ(decorator.mac(), inner.mac());
  EXPECT_EQ(decorator.mtu(), 1400u);
  EXPECT_EQ(decorator.max_frame_len(), 1414u);
  EXPECT_EQ(decorator.capabilities(), inner.capabilities());

  EXPECT_TRUE(decorator.transmit(as_bytes(kArpFrame)).value());
  EXPECT_FALSE(decorator.transmit(as_bytes(kArpFrame)).value());  // inner queue full
  EXPECT_EQ(inner.transmitted().size(), 1u);

  ASSERT_TRUE(inner.inject(as_bytes(make_frame(60, 3))));
  FrameBatch batch;
  EXPECT_EQ(decorator.receive(batch).value(), 1u);
  EXPECT_EQ(ByteVector(batch[0].data.begin(), batch[0].data.end()), make_frame(60, 3));

  EXPECT_EQ(decorator.counters(), inner.counters());
  EXPECT_EQ(decorator.counters().tx_full, 1u);
}

TEST(DeviceDecorator, SingleFrameTransmitGoesThroughTransmitBatch) {
  QueueDevice inner;
  CountingDecorator counting(inner);
  EXPECT_TRUE(counting.transmit(as_bytes(kArpFrame)).value());
  const std::vector<Frame> two{Frame{as_bytes(kArpFrame)}, Frame{as_bytes(kArpFrame)}};
  EXPECT_EQ(counting.transmit_batch(two).value(), 2u);
  EXPECT_EQ(counting.offered, 3u);
  EXPECT_EQ(inner.transmitted().size(), 3u);
}

TEST(DeviceDecorator, DecoratorsStack) {
  QueueDevice inner;
  CountingDecorator first(inner);
  CountingDecorator second(static_cast<Device&>(first));
  Device& device = second;
  EXPECT_TRUE(device.transmit(as_bytes(kArpFrame)).value());
  EXPECT_EQ(first.offered, 1u);
  EXPECT_EQ(second.offered, 1u);
  EXPECT_EQ(inner.transmitted().size(), 1u);
}

TEST(DeviceError, HasNames) {
  EXPECT_EQ(to_string(DeviceError::FrameTooLong), "frame too long");
  EXPECT_EQ(to_string(DeviceError::Closed), "device closed");
}

}  // namespace
}  // namespace tapstack::link
