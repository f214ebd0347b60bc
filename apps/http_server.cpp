#include "apps/http_server.hpp"

#include <algorithm>
#include <array>
#include <utility>

#include "apps/generated_content.hpp"

namespace tapstack::apps {

namespace {

// File chunks read per tcp_send (at most what the send buffer takes at that moment).
constexpr std::size_t kFileChunkBytes = 64 * 1024;

constexpr std::string_view kTextPlain = "text/plain; charset=utf-8";
constexpr std::string_view kOctetStream = "application/octet-stream";

Bytes bytes_of(std::string_view s) { return std::as_bytes(std::span(s)); }

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

}  // namespace

// What a request resolved to: a status, and a body from text, the pattern or a file.
struct HttpServer::Response {
  enum class Body : std::uint8_t { Text, Generated, File };

  int status = 200;
  std::string_view content_type = kTextPlain;
  Body body = Body::Text;
  std::string text;              // Body::Text
  std::uint64_t length = 0;      // Body::Generated and Body::File
  std::unique_ptr<File> file;    // Body::File
  bool allow = false;            // 405: "Allow: GET, HEAD"
  bool close = false;            // the request's framing is broken: close after this

  static Response error(int status, std::string_view detail) {
    Response r;
    r.status = status;
    r.text = std::to_string(status) + " " + std::string(http::reason_phrase(status)) + ": " + std::string(detail);
    r.text += "\n";
    r.allow = status == 405;
    return r;
  }
};

struct HttpServer::HttpConnection final : Connection {
  HttpConnection(TcpSocketId s, Instant now) : Connection(s), last_progress(now) {}

  http::RequestReader reader;
  // The response in progress: its head, then its body.
  bool responding = false;
  std::string head;
  std::size_t head_sent = 0;
  Response::Body body = Response::Body::Text;
  std::string text;
  std::unique_ptr<File> file;
  std::uint64_t body_size = 0;  // 0 for HEAD
  std::uint64_t body_sent = 0;
  bool close_after = false;     // shut down once this response is queued
  // Closing (RFC 9112 9.6): our FIN is queued; input is drained until the peer's FIN.
  bool shut_down = false;
  bool peer_closed = false;
  Instant last_progress;        // the last time a byte moved either way
};

HttpServer::HttpServer(HttpServerConfig config, std::unique_ptr<FileSource> files)
    : TcpServer(config.port, config.limits), config_(config), files_(std::move(files)), scratch_(kFileChunkBytes) {}

std::string HttpServer::name() const { return "http_" + std::to_string(port()); }

std::string HttpServer::description() const {
  std::string d = "HTTP/1.1 server on port " + std::to_string(port()) + " (/bytes/N";
  if (files_) {
    d += ", " + files_->description();
  }
  return d + ")";
}

std::string_view HttpServer::content_type(std::string_view file_name) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 16> kTypes{{
      {"html", "text/html; charset=utf-8"},
      {"htm", "text/html; charset=utf-8"},
      {"txt", kTextPlain},
      {"css", "text/css"},
      {"js", "text/javascript"},
      {"json", "application/json"},
      {"xml", "application/xml"},
      {"png", "image/png"},
      {"jpg", "image/jpeg"},
      {"jpeg", "image/jpeg"},
      {"gif", "image/gif"},
      {"svg", "image/svg+xml"},
      {"ico", "image/x-icon"},
      {"pdf", "application/pdf"},
      {"wasm", "application/wasm"},
      {"bin", kOctetStream},
  }};
  const std::size_t slash = file_name.rfind('/');
  const std::string_view base = slash == std::string_view::npos ? file_name : file_name.substr(slash + 1);
  const std::size_t dot = base.rfind('.');
  if (dot == std::string_view::npos || dot == 0) {
    return kOctetStream;
  }
  std::string ext(base.substr(dot + 1));
  std::transform(ext.begin(), ext.end(), ext.begin(), lower);
  for (const auto& [e, type] : kTypes) {
    if (e == ext) {
      return type;
    }
  }
  return kOctetStream;
}

std::unique_ptr<TcpServer::Connection> HttpServer::make_connection(Stack& stack, TcpSocketId socket, Instant now) {
  (void)stack.tcp_set_nagle(socket, false);
  return std::make_unique<HttpConnection>(socket, now);
}

Instant HttpServer::deadline(const Connection& connection) const {
  return static_cast<const HttpConnection&>(connection).last_progress + config_.idle_timeout;
}

HttpServer::Response HttpServer::route(const http::Request& request) {
  auto path = http::resolve_path(request.path);
  if (!path.ok()) {
    return Response::error(path.error().status, path.error().reason);
  }
  const http::ResourcePath& p = *path;
  constexpr std::string_view kBytesPrefix = "bytes/";
  if (!p.directory && p.relative.starts_with(kBytesPrefix)) {
    const std::string_view digits = std::string_view(p.relative).substr(kBytesPrefix.size());
    if (all_digits(digits)) {
      std::uint64_t n = 0;
      bool too_large = false;
      for (char c : digits) {
        const auto d = static_cast<std::uint64_t>(c - '0');
        if (n > (config_.bytes_max - d) / 10) {
          too_large = true;
          break;
        }
        n = n * 10 + d;
      }
      if (too_large || n > config_.bytes_max) {
        return Response::error(400, "/bytes/N serves at most " + std::to_string(config_.bytes_max) + " bytes");
      }
      Response r;
      r.content_type = kOctetStream;
      r.body = Response::Body::Generated;
      r.length = n;
      return r;
    }
  }
  if (files_) {
    const std::string name =
        p.directory ? (p.relative.empty() ? std::string("index.html") : p.relative + "/index.html") : p.relative;
    if (std::unique_ptr<File> file = files_->open(name)) {
      Response r;
      r.content_type = content_type(name);
      r.body = Response::Body::File;
      r.length = file->size();
      r.file = std::move(file);
      return r;
    }
  }
  if (p.relative.empty()) {
    Response r;
    r.text = "tapstack HTTP server\n"
             "GET /bytes/N: N generated bytes (byte i is 'a' + i % 26), N up to " +
             std::to_string(config_.bytes_max) + "\n";
    if (files_) {
      r.text += "GET /PATH: " + files_->description() + "\n";
    }
    return r;
  }
  return Response::error(404, "no such resource");
}

void HttpServer::count_response(int status) {
  switch (status) {
    case 200: http_counters_.responses_200++; break;
    case 400: http_counters_.responses_400++; break;
    case 404: http_counters_.responses_404++; break;
    case 405: http_counters_.responses_405++; break;
    case 414: http_counters_.responses_414++; break;
    case 431: http_counters_.responses_431++; break;
    case 501: http_counters_.responses_501++; break;
    case 505: http_counters_.responses_505++; break;
    default: http_counters_.responses_other++; break;
  }
}

void HttpServer::begin(HttpConnection& c, Response response, bool head_only, bool keep_alive,
                       unsigned version_minor) {
  const std::uint64_t length = response.body == Response::Body::Text ? response.text.size() : response.length;
  c.close_after = response.close || !keep_alive;
  // RFC 9112 4: status-line = HTTP-version SP status-code SP [ reason-phrase ]; we answer with
  // our own version, 1.1, also to 1.0 clients (RFC 9110 6.2).
  std::string& h = c.head;
  h.clear();
  h += "HTTP/1.1 " + std::to_string(response.status) + " " + std::string(http::reason_phrase(response.status)) +
       "\r\nServer: tapstack\r\nContent-Type: " + std::string(response.content_type) +
       "\r\nContent-Length: " + std::to_string(length) + "\r\n";
  if (response.allow) {
    h += "Allow: GET, HEAD\r\n";  // RFC 9110 15.5.6: a 405 MUST list the allowed methods
  }
  if (c.close_after) {
    h += "Connection: close\r\n";  // RFC 9112 9.6
  } else if (version_minor == 0) {
    h += "Connection: keep-alive\r\n";  // RFC 9112 C.2.2: a 1.0 client learns the connection persists
  }
  h += "\r\n";
  c.head_sent = 0;
  c.body = response.body;
  c.text = std::move(response.text);
  c.file = head_only ? nullptr : std::move(response.file);
  c.body_size = head_only ? 0 : length;  // RFC 9110 9.3.2: HEAD gets the head GET would, no content
  c.body_sent = 0;
  c.responding = true;
  count_response(response.status);
}

TcpServer::Step HttpServer::serve(Stack& stack, Connection& connection, Instant now) {
  auto& c = static_cast<HttpConnection&>(connection);
  for (std::size_t round = 0; round < kServeRoundsMax; ++round) {
    const std::uint64_t moved_before = counters().bytes_sent + counters().bytes_received;
    bool progress = false;

    // 1. The response in progress, as far as the send buffer takes it.
    if (c.responding) {
      SocketError error{};
      const Pump pumped = pump(stack, c, error);
      if (pumped == Pump::FileFailed) {
        http_counters_.file_read_errors++;
        return abort_connection(stack, c, &TcpServerCounters::connections_errors);
      }
      if (pumped == Pump::SocketFailed) {
        return fail_connection(stack, c, error);
      }
      if (pumped == Pump::Done) {
        c.responding = false;
        c.file.reset();
        c.text.clear();
        progress = true;
        if (c.close_after) {
          if (auto shut = stack.tcp_shutdown(c.socket); !shut.ok()) {
            return fail_connection(stack, c, shut.error());
          }
          c.shut_down = true;
        }
      }
    }

    // 2. Input: into the request reader (only what it can hold: backpressure), or dropped while
    // closing.
    if (!c.peer_closed) {
      const MutableBytes into = c.shut_down ? MutableBytes{scratch_} : c.reader.space();
      if (!into.empty()) {
        auto got = receive(stack, c, into);
        if (got.ok()) {
          if (*got == 0) {
            c.peer_closed = true;
          } else if (!c.shut_down) {
            c.reader.commit(*got);
          }
          progress = true;
        } else if (got.error() != SocketError::WouldBlock) {
          return fail_connection(stack, c, got.error());
        }
      }
    }

    // 3. The next request, once the previous response is queued (pipelining: in order).
    if (!c.responding && !c.shut_down) {
      http::ReadStep step = c.reader.next();
      if (auto* request = std::get_if<http::Request>(&step)) {
        const bool head_only = request->method == http::Method::Head;
        (head_only ? http_counters_.requests_head : http_counters_.requests_get)++;
        begin(c, route(*request), head_only, request->keep_alive, request->version_minor);
        progress = true;
      } else if (auto* bad = std::get_if<http::RequestError>(&step)) {
        http_counters_.requests_malformed++;
        Response r = Response::error(bad->status, bad->reason);
        r.close = true;
        begin(c, std::move(r), false, false, 1);
        progress = true;
      } else if (c.peer_closed) {
        // No complete request left and none will come (a partial one is dropped): orderly close.
        return close_connection(stack, c);
      }
    }

    // 4. Both directions closed and the last response queued: release (FIN already queued).
    if (c.shut_down && c.peer_closed && !c.responding) {
      return close_connection(stack, c);
    }
    if (counters().bytes_sent + counters().bytes_received != moved_before) {
      c.last_progress = now;
    }
    if (!progress) {
      if (now >= deadline(c)) {
        http_counters_.idle_timeouts++;
        if (!c.responding && c.reader.buffered() == 0 && !c.shut_down) {
          return close_connection(stack, c);  // idle between requests: an orderly close
        }
        return abort_connection(stack, c, &TcpServerCounters::connections_timed_out);
      }
      return Step::Wait;
    }
  }
  return Step::Again;
}

HttpServer::Pump HttpServer::pump(Stack& stack, HttpConnection& c, SocketError& error) {
  while (c.head_sent < c.head.size()) {
    auto sent = send(stack, c, bytes_of(c.head).subspan(c.head_sent));
    if (!sent.ok()) {
      if (sent.error() == SocketError::WouldBlock) {
        return Pump::Blocked;
      }
      error = sent.error();
      return Pump::SocketFailed;
    }
    if (*sent == 0) {
      return Pump::Blocked;
    }
    c.head_sent += *sent;
  }
  while (c.body_sent < c.body_size) {
    const std::uint64_t remaining = c.body_size - c.body_sent;
    Bytes chunk;
    switch (c.body) {
      case Response::Body::Text:
        chunk = bytes_of(c.text).subspan(static_cast<std::size_t>(c.body_sent));
        break;
      case Response::Body::Generated: {
        const Bytes span = bytes_pattern_span_at(c.body_sent);
        chunk = span.first(static_cast<std::size_t>(std::min<std::uint64_t>(span.size(), remaining)));
        break;
      }
      case Response::Body::File: {
        // Read only what the send buffer takes now; what it does not take is read again later.
        auto info = stack.tcp_info(c.socket);
        if (!info.ok()) {
          error = info.error();
          return Pump::SocketFailed;
        }
        const std::size_t want = static_cast<std::size_t>(
            std::min<std::uint64_t>({info->writable, scratch_.size(), remaining}));
        if (want == 0) {
          if (info->error) {
            error = *info->error;
            return Pump::SocketFailed;
          }
          return Pump::Blocked;  // full: an ACK raises Writable
        }
        auto read = c.file->read(c.body_sent, MutableBytes{scratch_}.first(want));
        if (!read.ok() || *read == 0) {
          return Pump::FileFailed;
        }
        chunk = Bytes{scratch_}.first(*read);
        break;
      }
    }
    auto sent = send(stack, c, chunk);
    if (!sent.ok()) {
      if (sent.error() == SocketError::WouldBlock) {
        return Pump::Blocked;
      }
      error = sent.error();
      return Pump::SocketFailed;
    }
    if (*sent == 0) {
      return Pump::Blocked;
    }
    c.body_sent += *sent;
    http_counters_.body_bytes_sent += *sent;
  }
  return Pump::Done;
}

void HttpServer::visit_service_counters(const std::function<void(std::string_view, std::uint64_t)>& f) const {
  http_counters_.visit(f);
}

}  // namespace tapstack::apps
