#include "apps/service_spec.hpp"

#include <charconv>
#include <map>
#include <tuple>

#include "apps/http_server.hpp"
#include "apps/tcp_service.hpp"
#include "apps/udp_service.hpp"

namespace tapstack::apps {

namespace {

std::string quoted(std::string_view text) { return "'" + std::string(text) + "'"; }

Result<ServiceSpec, std::string> bad(std::string_view text, std::string_view why) {
  return fail(quoted(text) + ": " + std::string(why) + "; expected " + std::string(kServiceSpecForms));
}

}  // namespace

std::string_view to_string(ServiceKind kind) {
  switch (kind) {
    case ServiceKind::Echo: return "echo";
    case ServiceKind::Discard: return "discard";
    case ServiceKind::Chargen: return "chargen";
    case ServiceKind::Http: return "http";
  }
  return "unknown";
}

Result<ServiceSpec, std::string> parse_service_spec(std::string_view text) {
  const std::size_t colon = text.find(':');
  if (colon == std::string_view::npos) {
    return bad(text, "missing ':PORT'");
  }
  const std::string_view service = text.substr(0, colon);
  std::string_view rest = text.substr(colon + 1);
  ServiceSpec spec;
  if (service == "echo") {
    spec.kind = ServiceKind::Echo;
  } else if (service == "discard") {
    spec.kind = ServiceKind::Discard;
  } else if (service == "chargen") {
    spec.kind = ServiceKind::Chargen;
  } else if (service == "http") {
    spec.kind = ServiceKind::Http;
  } else {
    return bad(text, "unknown service " + quoted(service));
  }
  std::string_view port_text = rest;
  if (spec.kind == ServiceKind::Http) {
    const std::size_t dir_colon = rest.find(':');
    if (dir_colon != std::string_view::npos) {
      port_text = rest.substr(0, dir_colon);
      spec.dir = std::string(rest.substr(dir_colon + 1));
      if (spec.dir.empty()) {
        return bad(text, "empty DIR after 'http:PORT:'");
      }
    }
  }
  if (port_text.empty()) {
    return bad(text, "missing port");
  }
  // Decimal digits only: from_chars alone would accept "7x" as 7 (it stops at the 'x').
  unsigned long port = 0;
  const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec == std::errc::result_out_of_range) {
    return bad(text, "port must be 1..65535");
  }
  if (ec != std::errc{} || end != port_text.data() + port_text.size()) {
    return bad(text, "port " + quoted(port_text) + " is not a number");
  }
  if (port == 0 || port > 65535) {
    return bad(text, "port must be 1..65535");
  }
  spec.port = static_cast<std::uint16_t>(port);
  return spec;
}

bool uses_tcp(ServiceKind) { return true; }

bool uses_udp(ServiceKind kind) { return kind == ServiceKind::Echo || kind == ServiceKind::Discard; }

Result<Unit, std::string> check_service_specs(std::span<const ServiceSpec> specs) {
  auto spec_text = [](const ServiceSpec& spec) {
    return "'" + std::string(to_string(spec.kind)) + ":" + std::to_string(spec.port) + "'";
  };
  std::map<std::uint16_t, const ServiceSpec*> tcp_ports;
  std::map<std::uint16_t, const ServiceSpec*> udp_ports;
  for (const ServiceSpec& spec : specs) {
    for (auto [uses, ports, protocol] : {std::tuple{uses_tcp(spec.kind), &tcp_ports, "TCP"},
                                         std::tuple{uses_udp(spec.kind), &udp_ports, "UDP"}}) {
      if (!uses) {
        continue;
      }
      auto [it, inserted] = ports->emplace(spec.port, &spec);
      if (!inserted) {
        return fail(spec_text(spec) + ": " + protocol + " port " + std::to_string(spec.port) +
                    " is already served by " + spec_text(*it->second));
      }
    }
  }
  return Unit{};
}

std::vector<std::unique_ptr<App>> make_apps(const ServiceSpec& spec, std::unique_ptr<FileSource> files) {
  std::vector<std::unique_ptr<App>> apps;
  switch (spec.kind) {
    case ServiceKind::Echo:
      apps.push_back(std::make_unique<TcpEcho>(spec.port));
      apps.push_back(std::make_unique<UdpEcho>(spec.port));
      break;
    case ServiceKind::Discard:
      apps.push_back(std::make_unique<TcpDiscard>(spec.port));
      apps.push_back(std::make_unique<UdpDiscard>(spec.port));
      break;
    case ServiceKind::Chargen:
      apps.push_back(std::make_unique<TcpChargen>(spec.port));
      break;
    case ServiceKind::Http: {
      HttpServerConfig config;
      config.port = spec.port;
      apps.push_back(std::make_unique<HttpServer>(config, std::move(files)));
      break;
    }
  }
  return apps;
}

}  // namespace tapstack::apps
