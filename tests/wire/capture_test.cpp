// Our parsers against real Linux traffic (corpus/pcap/, made by
// ci/capture-corpus): every field we read equals what tshark reads in the same
// frame, and every frame re-emits from its parsed values byte for byte.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

#include "stack/capture/pcap_file.hpp"
#include "stack/wire/arp.hpp"
#include "stack/wire/dissect.hpp"
#include "stack/wire/ethernet.hpp"
#include "stack/wire/icmp.hpp"
#include "stack/wire/ipv4.hpp"
#include "stack/wire/tcp.hpp"
#include "stack/wire/udp.hpp"

namespace tapstack::wire {
namespace {

const std::vector<std::string> kCaptures = {"arp", "ping", "tcp_handshake", "udp"};

std::string corpus_path(const std::string& name, const std::string& ext) {
  return std::string(TAPSTACK_SOURCE_DIR) + "/corpus/pcap/" + name + ext;
}

std::vector<ByteVector> read_frames(const std::string& name) {
  auto reader = capture::PcapReader::open(corpus_path(name, ".pcap"));
  EXPECT_TRUE(reader.ok()) << (reader.ok() ? "" : reader.error());
  std::vector<ByteVector> frames;
  if (!reader.ok()) {
    return frames;
  }
  for (;;) {
    auto record = reader->next();
    EXPECT_TRUE(record.ok());
    if (!record.ok() || !record->has_value()) {
      break;
    }
    frames.push_back((*record)->data);
  }
  return frames;
}

// tshark's table: a header row of field names, then one row per frame.
using TsharkRow = std::map<std::string, std::string>;

std::vector<std::string> split_tabs(const std::string& line) {
  std::vector<std::string> cells;
  std::string cell;
  std::istringstream in(line);
  while (std::getline(in, cell, '\t')) {
    cells.push_back(cell);
  }
  if (!line.empty() && line.back() == '\t') {
    cells.emplace_back();
  }
  return cells;
}

std::vector<TsharkRow> read_tshark(const std::string& name) {
  std::ifstream in(corpus_path(name, ".tshark.tsv"));
  EXPECT_TRUE(in.good()) << name;
  std::string line;
  std::getline(in, line);
  const std::vector<std::string> header = split_tabs(line);
  std::vector<TsharkRow> rows;
  while (std::getline(in, line)) {
    const std::vector<std::string> cells = split_tabs(line);
    TsharkRow row;
    for (std::size_t i = 0; i < header.size(); ++i) {
      row[header[i]] = i < cells.size() ? cells[i] : "";
    }
    rows.push_back(row);
  }
  return rows;
}

class CapturedTraffic : public ::testing::TestWithParam<std::string> {};

TEST_P(CapturedTraffic, EveryFieldMatchesTshark) {
  const std::vector<ByteVector> frames = read_frames(GetParam());
  const std::vector<TsharkRow> rows = read_tshark(GetParam());
  ASSERT_FALSE(frames.empty());
  ASSERT_EQ(frames.size(), rows.size());
  std::size_t compared = 0;
  for (std::size_t i = 0; i < frames.size(); ++i) {
    const Dissection d = dissect_frame(as_bytes(frames[i]));
    EXPECT_FALSE(d.has_problem()) << GetParam() << " frame " << i + 1;
    for (const auto& [field, expected] : rows[i]) {
      if (field == "frame.number") {
        continue;
      }
      // Both directions: a field tshark leaves empty must be absent here too.
      EXPECT_EQ(d.field(field), expected) << GetParam() << " frame " << i + 1 << " field " << field;
      compared += expected.empty() ? 0 : 1;
    }
  }
  EXPECT_GT(compared, frames.size() * 5) << "too few fields compared to mean anything";
}

// Parses every layer into its Repr and emits the frame again from those values
// alone (the output starts as 0xa5 filler, so anything not written shows).
ByteVector reemit(Bytes frame) {
  ByteVector out(frame.size(), std::byte{0xa5});
  const MutableBytes o(out);
  auto eth = EthernetView::parse(frame);
  if (!eth.ok()) {
    ADD_FAILURE() << "ethernet: " << to_string(eth.error());
    return out;
  }
  EthernetRepr::parse(*eth).emit(o);
  const std::size_t l3 = eth->header_len();
  if (eth->ethertype() == EtherType::Arp) {
    auto arp = ArpView::parse(eth->payload());
    EXPECT_TRUE(arp.ok());
    ArpRepr::parse(*arp).emit(o.subspan(l3));
    std::memcpy(out.data() + l3 + ArpRepr::buffer_len(), frame.data() + l3 + ArpRepr::buffer_len(),
                frame.size() - l3 - ArpRepr::buffer_len());  // Ethernet padding
    return out;
  }
  auto ipv = Ipv4View::parse(eth->payload());
  if (!ipv.ok()) {
    ADD_FAILURE() << "ipv4: " << to_string(ipv.error());
    return out;
  }
  auto ip = Ipv4Repr::parse(*ipv, ChecksumCheck::Verify);
  EXPECT_TRUE(ip.ok());
  ip->emit(o.subspan(l3));
  const std::size_t l4 = l3 + ip->header_len();
  const std::size_t end = l4 + ip->payload_len;
  std::memcpy(out.data() + end, frame.data() + end, frame.size() - end);  // Ethernet padding
  const MutableBytes transport = o.subspan(l4, ip->payload_len);
  const Bytes payload = ipv->payload();
  const bool fragment = ip->more_fragments || ip->fragment_offset != 0;
  if (fragment) {
    std::memcpy(transport.data(), payload.data(), payload.size());
    if (ip->fragment_offset != 0) {
      return out;  // only the first fragment starts with a transport header
    }
  }
  switch (ip->protocol) {
    case IpProtocol::Icmp: {
      auto view = IcmpView::parse(payload);
      EXPECT_TRUE(view.ok());
      if (!fragment) {
        auto icmp = IcmpRepr::parse(*view, ChecksumCheck::Verify);
        EXPECT_TRUE(icmp.ok());
        icmp->emit(transport);
      }
      break;
    }
    case IpProtocol::Udp: {
      auto view = UdpView::parse(payload);
      EXPECT_TRUE(view.ok());
      auto udp = UdpRepr::parse(*view, ip->source, ip->destination, ChecksumCheck::Verify);
      EXPECT_TRUE(udp.ok());
      std::memcpy(transport.data() + 8, view->payload().data(), view->payload().size());
      udp->emit(transport, ip->source, ip->destination);
      break;
    }
    case IpProtocol::Tcp: {
      auto view = TcpView::parse(payload);
      EXPECT_TRUE(view.ok());
      auto tcp = TcpRepr::parse(*view, ip->source, ip->destination, ChecksumCheck::Verify);
      EXPECT_TRUE(tcp.ok());
      std::memcpy(transport.data() + tcp->header_len(), view->payload().data(), view->payload().size());
      tcp->emit(transport, ip->source, ip->destination);
      break;
    }
    default:
      ADD_FAILURE() << "unexpected protocol";
  }
  return out;
}

TEST_P(CapturedTraffic, EveryFrameReemitsByteForByte) {
  const std::vector<ByteVector> frames = read_frames(GetParam());
  ASSERT_FALSE(frames.empty());
  for (std::size_t i = 0; i < frames.size(); ++i) {
    EXPECT_EQ(reemit(as_bytes(frames[i])), frames[i]) << GetParam() << " frame " << i + 1;
  }
}

INSTANTIATE_TEST_SUITE_P(Corpus, CapturedTraffic, ::testing::ValuesIn(kCaptures),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace tapstack::wire
