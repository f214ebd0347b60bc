#include "stack/wire/dissect.hpp"

#include <cstdio>
#include <string_view>

#include "stack/wire/arp.hpp"
#include "stack/wire/ethernet.hpp"
#include "stack/wire/icmp.hpp"
#include "stack/wire/ipv4.hpp"
#include "stack/wire/tcp.hpp"
#include "stack/wire/tcp_options.hpp"
#include "stack/wire/udp.hpp"

namespace tapstack::wire {

namespace {

std::string hex16(std::uint16_t v) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%04x", v);
  return buf;
}

std::string hex_bytes(Bytes b) {
  std::string out;
  char buf[3];
  for (std::byte x : b) {
    std::snprintf(buf, sizeof buf, "%02x", static_cast<unsigned>(x));
    out += buf;
  }
  return out;
}

std::string num(std::uint64_t v) { return std::to_string(v); }

std::string checksum_note(std::uint16_t value, bool good) {
  return "checksum " + hex16(value) + (good ? "" : " BAD");
}

std::string_view ethertype_name(EtherType t) {
  switch (t) {
    case EtherType::Ipv4: return "IPv4";
    case EtherType::Arp: return "ARP";
    case EtherType::Vlan: return "802.1Q";
    case EtherType::Ipv6: return "IPv6";
  }
  return "unknown";
}

std::string_view protocol_name(IpProtocol p) {
  switch (p) {
    case IpProtocol::Icmp: return "ICMP";
    case IpProtocol::Tcp: return "TCP";
    case IpProtocol::Udp: return "UDP";
  }
  return "unknown";
}

std::string_view icmp_type_name(IcmpType t) {
  switch (t) {
    case IcmpType::EchoReply: return "echo reply";
    case IcmpType::DestinationUnreachable: return "destination unreachable";
    case IcmpType::SourceQuench: return "source quench";
    case IcmpType::Redirect: return "redirect";
    case IcmpType::EchoRequest: return "echo request";
    case IcmpType::TimeExceeded: return "time exceeded";
    case IcmpType::ParameterProblem: return "parameter problem";
    case IcmpType::Timestamp: return "timestamp";
    case IcmpType::TimestampReply: return "timestamp reply";
  }
  return "unknown type";
}

class Dissector {
 public:
  explicit Dissector(Dissection& out) : out_(out) {}

  void ethernet(Bytes frame) {
    DissectedLayer& layer = add("ethernet");
    auto view = EthernetView::parse(frame);
    if (!view.ok()) {
      malformed(layer, view.error(), frame.size());
      return;
    }
    field(layer, "eth.dst", view->destination().to_string());
    field(layer, "eth.src", view->source().to_string());
    field(layer, "eth.type", hex16(static_cast<std::uint16_t>(view->ethertype())));
    layer.summary = view->source().to_string() + " > " + view->destination().to_string() + "  type " +
                    hex16(static_cast<std::uint16_t>(view->ethertype())) + " (" +
                    std::string(ethertype_name(view->ethertype())) + ")";
    if (auto tci = view->vlan_tci()) {
      layer.summary += "  vlan " + num(*tci & 0x0fff) + " pcp " + num(*tci >> 13);
    }
    switch (view->ethertype()) {
      case EtherType::Arp: arp(view->payload()); break;
      case EtherType::Ipv4: ipv4(view->payload(), false); break;
      default: payload(view->payload()); break;
    }
  }

 private:
  DissectedLayer& add(std::string name) {
    out_.layers.push_back(DissectedLayer{std::move(name), {}, {}, {}, quoted_});
    return out_.layers.back();
  }

  static void field(DissectedLayer& layer, std::string name, std::string value) {
    layer.fields.push_back(DissectedField{std::move(name), std::move(value)});
  }

  static void malformed(DissectedLayer& layer, Error e, std::size_t available) {
    layer.problem = "malformed: " + std::string(to_string(e));
    layer.summary = "MALFORMED (" + std::string(to_string(e)) + ") in " + num(available) + " bytes";
  }

  void arp(Bytes packet) {
    DissectedLayer& layer = add("arp");
    auto view = ArpView::parse(packet);
    if (!view.ok()) {
      malformed(layer, view.error(), packet.size());
      return;
    }
    const auto op = static_cast<std::uint16_t>(view->operation());
    field(layer, "arp.opcode", num(op));
    field(layer, "arp.src.hw_mac", view->sender_mac().to_string());
    field(layer, "arp.src.proto_ipv4", view->sender_ip().to_string());
    field(layer, "arp.dst.hw_mac", view->target_mac().to_string());
    field(layer, "arp.dst.proto_ipv4", view->target_ip().to_string());
    if (view->operation() == ArpOperation::Request) {
      layer.summary = "request who-has " + view->target_ip().to_string() + " tell " +
                      view->sender_ip().to_string() + " (" + view->sender_mac().to_string() + ")";
    } else if (view->operation() == ArpOperation::Reply) {
      layer.summary = "reply " + view->sender_ip().to_string() + " is-at " + view->sender_mac().to_string();
    } else {
      layer.summary = "operation " + num(op) + " sender " + view->sender_ip().to_string();
    }
  }

  void ipv4(Bytes datagram, bool quote) {
    DissectedLayer& layer = add("ipv4");
    auto view = quote ? Ipv4View::parse_quoted(datagram) : Ipv4View::parse(datagram);
    if (!view.ok()) {
      malformed(layer, view.error(), datagram.size());
      return;
    }
    const Ipv4View& ip = *view;
    field(layer, "ip.version", num(ip.version()));
    field(layer, "ip.hdr_len", num(ip.header_len()));
    field(layer, "ip.len", num(ip.total_len()));
    field(layer, "ip.id", hex16(ip.identification()));
    field(layer, "ip.flags.df", ip.dont_fragment() ? "1" : "0");
    field(layer, "ip.flags.mf", ip.more_fragments() ? "1" : "0");
    // tshark counts the fragment offset in 8-byte units, as the field does.
    field(layer, "ip.frag_offset", num(ip.fragment_offset() / 8));
    field(layer, "ip.ttl", num(ip.ttl()));
    field(layer, "ip.proto", num(static_cast<std::uint8_t>(ip.protocol())));
    field(layer, "ip.checksum", hex16(ip.header_checksum()));
    field(layer, "ip.src", ip.source().to_string());
    field(layer, "ip.dst", ip.destination().to_string());
    const bool good = ip.verify_checksum();
    if (!good) {
      layer.problem = "bad header checksum";
    }
    layer.summary = ip.source().to_string() + " > " + ip.destination().to_string() + "  len " +
                    num(ip.total_len()) + " id " + hex16(ip.identification()) + " ttl " + num(ip.ttl()) +
                    " proto " + num(static_cast<std::uint8_t>(ip.protocol())) + " (" +
                    std::string(protocol_name(ip.protocol())) + ")";
    if (ip.dont_fragment()) {
      layer.summary += " DF";
    }
    if (ip.more_fragments() || ip.fragment_offset() != 0) {
      layer.summary += " fragment offset " + num(ip.fragment_offset()) + (ip.more_fragments() ? " MF" : "");
    }
    if (!ip.options().empty()) {
      layer.summary += " options " + hex_bytes(ip.options());
    }
    layer.summary += "  " + checksum_note(ip.header_checksum(), good);
    // Only a first (or only) fragment starts with the transport header.
    if (ip.fragment_offset() != 0) {
      payload(ip.payload());
      return;
    }
    const bool whole = !ip.more_fragments() && !quote;
    switch (ip.protocol()) {
      case IpProtocol::Icmp: icmp(ip.payload(), whole); break;
      case IpProtocol::Udp: udp(ip, whole, quote); break;
      case IpProtocol::Tcp: tcp(ip, whole, quote); break;
      default: payload(ip.payload()); break;
    }
  }

  void icmp(Bytes message, bool whole) {
    DissectedLayer& layer = add("icmp");
    auto view = IcmpView::parse(message);
    if (!view.ok()) {
      malformed(layer, view.error(), message.size());
      return;
    }
    const IcmpView& m = *view;
    field(layer, "icmp.type", num(static_cast<std::uint8_t>(m.type())));
    field(layer, "icmp.code", num(m.code()));
    field(layer, "icmp.checksum", hex16(m.checksum()));
    layer.summary = std::string(icmp_type_name(m.type())) + " (type " + num(static_cast<std::uint8_t>(m.type())) +
                    " code " + num(m.code()) + ")";
    const bool echo = m.type() == IcmpType::EchoRequest || m.type() == IcmpType::EchoReply;
    if (echo) {
      field(layer, "icmp.ident", num(m.echo_identifier()));
      field(layer, "icmp.seq", num(m.echo_sequence()));
      layer.summary += "  id " + num(m.echo_identifier()) + " seq " + num(m.echo_sequence()) + "  " +
                       num(m.data().size()) + " data bytes";
    }
    if (m.type() == IcmpType::DestinationUnreachable && m.code() == 4) {
      layer.summary += "  next-hop mtu " + num(m.next_hop_mtu());
    }
    // The checksum covers the whole message, so it can only be checked when
    // the datagram was not fragmented.
    if (whole) {
      const bool good = m.verify_checksum();
      layer.summary += "  " + checksum_note(m.checksum(), good);
      if (!good) {
        layer.problem = "bad checksum";
      }
    }
    if (m.type() == IcmpType::DestinationUnreachable || m.type() == IcmpType::TimeExceeded) {
      quoted_ = true;
      ipv4(m.data(), true);
      quoted_ = false;
    }
  }

  void udp(const Ipv4View& ip, bool whole, bool quote) {
    DissectedLayer& layer = add("udp");
    const Bytes datagram = ip.payload();
    if (quote) {
      // A quote carries only the first 8 bytes (RFC 792): the header, whose
      // length field describes a datagram that is not there.
      if (datagram.size() < UdpView::kHeaderLen) {
        malformed(layer, Error::Truncated, datagram.size());
        return;
      }
      udp_header_fields(layer, load_be16(datagram, 0), load_be16(datagram, 2), load_be16(datagram, 4),
                        load_be16(datagram, 6));
      layer.summary += "  (quoted header)";
      return;
    }
    auto view = UdpView::parse(datagram);
    if (!view.ok()) {
      malformed(layer, view.error(), datagram.size());
      return;
    }
    const UdpView& u = *view;
    udp_header_fields(layer, u.source_port(), u.destination_port(), u.length(), u.checksum());
    if (whole) {
      if (!u.has_checksum()) {
        layer.summary += "  no checksum";
      } else {
        const bool good = u.verify_checksum(ip.source(), ip.destination());
        layer.summary += "  " + checksum_note(u.checksum(), good);
        if (!good) {
          layer.problem = "bad checksum";
        }
      }
    }
    payload(u.payload());
  }

  static void udp_header_fields(DissectedLayer& layer, std::uint16_t sport, std::uint16_t dport,
                                std::uint16_t length, std::uint16_t checksum) {
    field(layer, "udp.srcport", num(sport));
    field(layer, "udp.dstport", num(dport));
    field(layer, "udp.length", num(length));
    field(layer, "udp.checksum", hex16(checksum));
    layer.summary = num(sport) + " > " + num(dport) + "  len " + num(length);
  }

  void tcp(const Ipv4View& ip, bool whole, bool quote) {
    DissectedLayer& layer = add("tcp");
    const Bytes segment = ip.payload();
    if (quote) {
      // RFC 792: the quote holds the first 8 bytes: ports and sequence number.
      if (segment.size() < 8) {
        malformed(layer, Error::Truncated, segment.size());
        return;
      }
      field(layer, "tcp.srcport", num(load_be16(segment, 0)));
      field(layer, "tcp.dstport", num(load_be16(segment, 2)));
      field(layer, "tcp.seq_raw", num(load_be32(segment, 4)));
      layer.summary = num(load_be16(segment, 0)) + " > " + num(load_be16(segment, 2)) + "  seq " +
                      num(load_be32(segment, 4)) + "  (quoted header)";
      return;
    }
    auto view = TcpView::parse(segment);
    if (!view.ok()) {
      malformed(layer, view.error(), segment.size());
      return;
    }
    const TcpView& t = *view;
    field(layer, "tcp.srcport", num(t.source_port()));
    field(layer, "tcp.dstport", num(t.destination_port()));
    field(layer, "tcp.seq_raw", num(t.seq_number()));
    field(layer, "tcp.ack_raw", num(t.ack_number()));
    field(layer, "tcp.hdr_len", num(t.header_len()));
    field(layer, "tcp.flags", hex16(t.flags().bits()));
    field(layer, "tcp.window_size_value", num(t.window()));
    field(layer, "tcp.checksum", hex16(t.checksum()));
    field(layer, "tcp.urgent_pointer", num(t.urgent_pointer()));
    layer.summary = num(t.source_port()) + " > " + num(t.destination_port()) + "  [" + t.flags().to_string() +
                    "]  seq " + num(t.seq_number());
    if (t.flags().has(TcpFlags::Ack)) {
      layer.summary += " ack " + num(t.ack_number());
    }
    layer.summary += " win " + num(t.window()) + " len " + num(t.payload().size());
    if (t.flags().has(TcpFlags::Urg)) {
      layer.summary += " urg " + num(t.urgent_pointer());
    }
    const std::string options = tcp_options(layer, t.options());
    if (!options.empty()) {
      layer.summary += "  options [" + options + "]";
    }
    if (whole) {
      const bool good = t.verify_checksum(ip.source(), ip.destination());
      layer.summary += "  " + checksum_note(t.checksum(), good);
      if (!good && layer.problem.empty()) {
        layer.problem = "bad checksum";
      }
    }
    payload(t.payload());
  }

  // Lists the options in order and adds tshark's option fields.
  static std::string tcp_options(DissectedLayer& layer, Bytes raw) {
    std::string text;
    auto append = [&text](const std::string& s) { text += (text.empty() ? "" : ", ") + s; };
    TcpOptionReader reader(raw);
    while (!reader.done()) {
      auto option = reader.next();
      if (!option.ok()) {
        append("MALFORMED (" + std::string(to_string(option.error())) + ")");
        layer.problem = "malformed options: " + std::string(to_string(option.error()));
        break;
      }
      std::visit(
          [&](const auto& o) {
            using T = std::decay_t<decltype(o)>;
            if constexpr (std::is_same_v<T, tcp_option::End>) {
              append("EOL");
            } else if constexpr (std::is_same_v<T, tcp_option::Nop>) {
              append("NOP");
            } else if constexpr (std::is_same_v<T, tcp_option::Mss>) {
              field(layer, "tcp.options.mss_val", num(o.value));
              append("MSS " + num(o.value));
            } else if constexpr (std::is_same_v<T, tcp_option::WindowScale>) {
              field(layer, "tcp.options.wscale.shift", num(o.shift));
              append("WS " + num(o.shift));
            } else if constexpr (std::is_same_v<T, tcp_option::SackPermitted>) {
              field(layer, "tcp.options.sack_perm", "0402");
              append("SACK_PERM");
            } else if constexpr (std::is_same_v<T, tcp_option::Sack>) {
              std::string blocks;
              for (const SackBlock& b : o.blocks.view()) {
                blocks += " " + num(b.left) + "-" + num(b.right);
              }
              append("SACK" + blocks);
            } else if constexpr (std::is_same_v<T, tcp_option::Timestamps>) {
              field(layer, "tcp.options.timestamp.tsval", num(o.value));
              field(layer, "tcp.options.timestamp.tsecr", num(o.echo_reply));
              append("TS " + num(o.value) + "/" + num(o.echo_reply));
            } else {
              append("kind " + num(o.kind) + " (" + num(o.data.size()) + " bytes)");
            }
          },
          *option);
    }
    return text;
  }

  void payload(Bytes data) {
    if (data.empty()) {
      return;
    }
    DissectedLayer& layer = add("payload");
    const std::size_t shown = data.size() < 16 ? data.size() : 16;
    layer.summary = num(data.size()) + " bytes  " + hex_bytes(data.first(shown)) + (shown < data.size() ? "..." : "");
  }

  Dissection& out_;
  bool quoted_ = false;
};

}  // namespace

std::string Dissection::field(std::string_view name) const {
  for (const DissectedLayer& layer : layers) {
    for (const DissectedField& f : layer.fields) {
      if (f.name == name) {
        return f.value;
      }
    }
  }
  return {};
}

bool Dissection::has_problem() const {
  for (const DissectedLayer& layer : layers) {
    if (!layer.problem.empty()) {
      return true;
    }
  }
  return false;
}

Dissection dissect_frame(Bytes frame) {
  Dissection out;
  Dissector(out).ethernet(frame);
  return out;
}

}  // namespace tapstack::wire
