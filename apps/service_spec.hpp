#pragma once
// `--serve SPEC` (../shared/CLI.md): which service on which port. Parsed once,
// at start-up, by every driver that runs services (live, replay, sim), so they
// accept and reject exactly the same specs with the same messages.
//
//   echo:PORT          RFC 862, TCP and UDP (apps/tcp_service.hpp, apps/udp_service.hpp)
//   discard:PORT       RFC 863, TCP and UDP
//   chargen:PORT       RFC 864, TCP only
//   http:PORT[:DIR]    HTTP/1.1, TCP only (apps/http_server.hpp); DIR is everything after the
//                      second ':' (it may contain ':'), served through a FileSource the driver
//                      opens (apps do no I/O)

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "apps/app.hpp"
#include "apps/file_source.hpp"
#include "stack/base/result.hpp"

namespace tapstack::apps {

enum class ServiceKind : std::uint8_t { Echo, Discard, Chargen, Http };

std::string_view to_string(ServiceKind kind);

struct ServiceSpec {
  ServiceKind kind = ServiceKind::Echo;
  std::uint16_t port = 0;  // 1..65535
  std::string dir;         // http only, may be empty

  bool operator==(const ServiceSpec&) const = default;
};

// The accepted forms, for error messages.
inline constexpr std::string_view kServiceSpecForms =
    "echo:PORT, discard:PORT, chargen:PORT or http:PORT[:DIR] (PORT 1..65535)";

// Parses one SPEC. The error is one line naming what is wrong and the accepted forms, e.g.
// "'echo:0': port must be 1..65535; expected echo:PORT, discard:PORT, ...". Whether DIR exists
// is the driver's to check (when it opens the FileSource).
Result<ServiceSpec, std::string> parse_service_spec(std::string_view text);

// Whether the service runs over TCP / UDP.
bool uses_tcp(ServiceKind kind);
bool uses_udp(ServiceKind kind);

// Checks a set of specs together: no two services on the same (protocol, port), e.g.
// "'discard:7': TCP port 7 is already served by 'echo:7'".
Result<Unit, std::string> check_service_specs(std::span<const ServiceSpec> specs);

// The apps implementing `spec` (one per protocol it runs on: TCP first, then UDP), not started
// yet. `files` serves http's DIR; without it (e.g. replay, which does no file I/O) the HTTP
// server serves /bytes/N and its root page only. Ignored for the other services.
std::vector<std::unique_ptr<App>> make_apps(const ServiceSpec& spec, std::unique_ptr<FileSource> files = nullptr);

}  // namespace tapstack::apps
