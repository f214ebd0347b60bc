// Parse rate per header (frames/s), on frames captured from Linux
// (corpus/pcap/). Each benchmark parses the view and the validated Repr,
// checksums included, as the stack will on receive.
#include <benchmark/benchmark.h>

#include "stack/capture/pcap_file.hpp"
#include "stack/wire/arp.hpp"
#include "stack/wire/ethernet.hpp"
#include "stack/wire/icmp.hpp"
#include "stack/wire/ipv4.hpp"
#include "stack/wire/tcp.hpp"
#include "stack/wire/udp.hpp"

namespace {

using namespace tapstack;
using namespace tapstack::wire;

// The first frame of corpus/pcap/<capture>.pcap.
ByteVector first_frame(const std::string& capture) {
  auto reader = capture::PcapReader::open(std::string(TAPSTACK_SOURCE_DIR) + "/corpus/pcap/" + capture + ".pcap");
  if (!reader.ok()) {
    return {};
  }
  auto record = reader->next();
  if (!record.ok() || !record->has_value()) {
    return {};
  }
  return (*record)->data;
}

Ipv4View ip_of(const ByteVector& frame) { return *Ipv4View::parse(EthernetView::parse(as_bytes(frame))->payload()); }

void BM_ParseEthernet(benchmark::State& state) {
  const ByteVector frame = first_frame("tcp_handshake");
  for (auto _ : state) {
    auto view = EthernetView::parse(as_bytes(frame));
    benchmark::DoNotOptimize(EthernetRepr::parse(*view));
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_ParseArp(benchmark::State& state) {
  const ByteVector frame = first_frame("arp");
  const Bytes packet = EthernetView::parse(as_bytes(frame))->payload();
  for (auto _ : state) {
    auto view = ArpView::parse(packet);
    benchmark::DoNotOptimize(ArpRepr::parse(*view));
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_ParseIpv4(benchmark::State& state) {
  const ByteVector frame = first_frame("tcp_handshake");
  const Bytes datagram = EthernetView::parse(as_bytes(frame))->payload();
  for (auto _ : state) {
    auto view = Ipv4View::parse(datagram);
    benchmark::DoNotOptimize(Ipv4Repr::parse(*view, ChecksumCheck::Verify));
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_ParseIcmpEcho(benchmark::State& state) {
  const ByteVector frame = first_frame("ping");
  const Bytes message = ip_of(frame).payload();
  for (auto _ : state) {
    auto view = IcmpView::parse(message);
    benchmark::DoNotOptimize(IcmpRepr::parse(*view, ChecksumCheck::Verify));
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_ParseUdp(benchmark::State& state) {
  const ByteVector frame = first_frame("udp");
  const Ipv4View ip = ip_of(frame);
  for (auto _ : state) {
    auto view = UdpView::parse(ip.payload());
    benchmark::DoNotOptimize(UdpRepr::parse(*view, ip.source(), ip.destination(), ChecksumCheck::Verify));
  }
  state.SetItemsProcessed(state.iterations());
}

// A Linux SYN: five options (MSS, SACK_PERM, TS, NOP, WS).
void BM_ParseTcpSyn(benchmark::State& state) {
  const ByteVector frame = first_frame("tcp_handshake");
  const Ipv4View ip = ip_of(frame);
  for (auto _ : state) {
    auto view = TcpView::parse(ip.payload());
    benchmark::DoNotOptimize(TcpRepr::parse(*view, ip.source(), ip.destination(), ChecksumCheck::Verify));
  }
  state.SetItemsProcessed(state.iterations());
}

// The whole receive path of one frame: Ethernet, IPv4, TCP with checksums.
void BM_ParseFrameEthIpTcp(benchmark::State& state) {
  const ByteVector frame = first_frame("tcp_handshake");
  for (auto _ : state) {
    auto eth = EthernetView::parse(as_bytes(frame));
    auto ipv = Ipv4View::parse(eth->payload());
    auto ip = Ipv4Repr::parse(*ipv, ChecksumCheck::Verify);
    auto tcp = TcpView::parse(ipv->payload());
    benchmark::DoNotOptimize(TcpRepr::parse(*tcp, ip->source, ip->destination, ChecksumCheck::Verify));
  }
  state.SetItemsProcessed(state.iterations());
}

}  // namespace

BENCHMARK(BM_ParseEthernet);
BENCHMARK(BM_ParseArp);
BENCHMARK(BM_ParseIpv4);
BENCHMARK(BM_ParseIcmpEcho);
BENCHMARK(BM_ParseUdp);
BENCHMARK(BM_ParseTcpSyn);
BENCHMARK(BM_ParseFrameEthIpTcp);
