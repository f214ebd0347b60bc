#pragma once
// `--serve SPEC` (../shared/CLI.md): which service on which port. Parsed once,
// at start-up, by every driver that runs services (live, replay, sim), so they
// accept and reject exactly the same specs with the same messages.
//
//   echo:PORT          RFC 862, TCP and UDP (UDP only until TCP lands)
//   discard:PORT       RFC 863, TCP and UDP (UDP only until TCP lands)
//   chargen:PORT       RFC 864, TCP only    (refused until TCP lands)
//   http:PORT[:DIR]    HTTP/1.1, TCP only   (refused until TCP lands)

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "apps/app.hpp"
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
inline constexpr std::string_view kServiceSpecForms = "echo:PORT or discard:PORT (PORT 1..65535)";

// Parses one SPEC. The error is one line naming what is wrong and the accepted forms, e.g.
// "'echo:0': port must be 1..65535; expected echo:PORT or discard:PORT (PORT 1..65535)".
// Syntactically valid TCP-only services (chargen, http) are refused here with "not available
// until TCP lands", so nothing starts with a service that cannot run.
Result<ServiceSpec, std::string> parse_service_spec(std::string_view text);

// Checks a set of specs together: no two services on the same (protocol, port).
Result<Unit, std::string> check_service_specs(std::span<const ServiceSpec> specs);

// The apps implementing `spec` (one per protocol it runs on), not started yet.
std::vector<std::unique_ptr<App>> make_apps(const ServiceSpec& spec);

}  // namespace tapstack::apps
