#pragma once
// HTTP/1.1 request heads (RFC 9112, semantics RFC 9110), parsed
// incrementally and without I/O: RequestReader holds the bytes received so
// far (at most kHeadSizeMax) and hands out one complete request head at a
// time, in order, so pipelined requests (RFC 9112 9.3.2) are answered in the
// order they came. The server (apps/http_server.hpp) feeds it from
// tcp_receive and asks for the next request only once the previous response
// is out; while a response streams, the reader keeps what it has and
// receiving pauses when it is full (backpressure: the TCP window closes).
//
// What the server serves and so what this accepts: GET and HEAD of a path,
// no request content. Every refusal is a status code (RequestError):
//
//   400 Bad Request    a malformed request line (not "METHOD SP TARGET SP
//                      HTTP/x.y"), method not a token, a target that is not
//                      origin-form or absolute-form (RFC 9112 3.2), a bare CR
//                      (RFC 9112 2.2), a malformed field line, whitespace
//                      before the colon (RFC 9112 5.1), obs-fold (RFC 9112
//                      5.2), a control character in a field value (RFC 9110
//                      5.5), HTTP/1.1 without Host or any request with two
//                      Host fields (RFC 9112 3.2), an invalid or conflicting
//                      Content-Length (RFC 9112 6.3), a request with content
//                      (Content-Length > 0): GET and HEAD content has no
//                      meaning here (RFC 9110 9.3.1) and is not read
//   405 Method Not Allowed  any other method (the response carries
//                      "Allow: GET, HEAD", RFC 9110 15.5.6); methods are
//                      case-sensitive (RFC 9110 9.1), so "get" is 405 too
//   414 URI Too Long   the request line did not end within kHeadSizeMax
//                      (RFC 9112 3)
//   431 Request Header Fields Too Large   the head did not end within
//                      kHeadSizeMax, or has more than kHeaderFieldsMax
//                      field lines (RFC 6585 5)
//   501 Not Implemented   Transfer-Encoding present: no transfer coding is
//                      understood (RFC 9112 6.1)
//   505 HTTP Version Not Supported   a major version other than 1
//
// After any of these the connection is closed (the server says
// "Connection: close"): the reader cannot know where the next request starts.
// The checks run in the order above, except that 405 wins over the content
// checks (a POST with content is told its method is the problem).
//
// Leniencies (RFC 9112 2.2): a bare LF ends a line like CRLF; empty lines
// before a request line are skipped. HTTP/1.x with x > 1 is treated as 1.1
// (RFC 9110 2.5).
//
// Paths: resolve_path() percent-decodes the target's path and turns it into a
// path relative to the served root, refusing everything that could leave it:
// a ".." segment after decoding (so "%2e%2e" and "..%2f" are caught too), a
// NUL, a backslash (raw or decoded), any other control character, and
// malformed percent-encoding — all 400 Bad Request (the request is not a
// name the server could ever serve; 404 is for names that could be but are
// not there).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "stack/base/bytes.hpp"
#include "stack/base/result.hpp"

namespace tapstack::apps::http {

// The largest request head accepted (request line, fields, the empty line), like common servers.
inline constexpr std::size_t kHeadSizeMax = 8192;
// Field lines per request head.
inline constexpr std::size_t kHeaderFieldsMax = 100;

enum class Method : std::uint8_t { Get, Head };

struct Request {
  Method method = Method::Get;
  std::string target;              // as sent: "/a%20b?x=1" or "http://host/a"
  std::string path;                // the target's path, still percent-encoded: "/a%20b"
  std::string query;               // after '?', without it ("" when none)
  unsigned version_minor = 1;      // HTTP/1.<minor> (only major 1 is accepted)
  bool keep_alive = true;          // RFC 9112 9.3: the connection persists after the response
  std::vector<std::pair<std::string, std::string>> fields;  // names lower-cased, values trimmed, in order

  // The value of the first field named `name` (any case).
  std::optional<std::string_view> field(std::string_view name) const;
};

struct RequestError {
  int status = 400;    // 400, 405, 414, 431, 501, 505
  std::string reason;  // one line for the response body: "bad request line"

  bool operator==(const RequestError&) const = default;
};

// The text of a status code's reason phrase ("Not Found"), for the status codes the server sends.
std::string_view reason_phrase(int status);

// The next step of a RequestReader.
struct NeedMore {};
using ReadStep = std::variant<NeedMore, Request, RequestError>;

class RequestReader {
 public:
  explicit RequestReader(std::size_t head_size_max = kHeadSizeMax);

  // Free space to receive into (contiguous; empty when full), then commit(n) the bytes written.
  MutableBytes space();
  void commit(std::size_t n);
  // Copies what fits of `data`; returns how much (the rest must be fed again later).
  std::size_t feed(Bytes data);
  std::size_t feed(std::string_view data);

  // The next request head, if a complete one is held (it is removed from the buffer); a
  // RequestError once the bytes cannot be a valid head (sticky: every later call returns it);
  // NeedMore otherwise.
  ReadStep next();

  std::size_t buffered() const { return size_; }
  bool full() const { return size_ == buffer_.size(); }
  bool failed() const { return failed_.has_value(); }

 private:
  // The end of the first head (just past its empty line) when the bytes held contain one.
  std::optional<std::size_t> find_head_end();
  void drop_front(std::size_t n);

  std::vector<char> buffer_;
  std::size_t size_ = 0;
  // Scan state, kept between calls so every byte is scanned once: where to look next, where the
  // current line began, and whether a line has ended yet (for 414 versus 431).
  std::size_t scan_ = 0;
  std::size_t line_start_ = 0;
  std::size_t head_start_ = 0;  // empty lines before the request line end here
  bool first_line_ended_ = false;
  std::optional<RequestError> failed_;
};

// Parses one whole request head (request line, field lines, the empty line; CRLF or LF line
// ends). Exposed for tests; RequestReader::next() uses it.
Result<Request, RequestError> parse_request_head(std::string_view head);

// A request path as a location below the served root (see above).
struct ResourcePath {
  std::string relative;    // "" (the root) or "dir/name.txt": segments joined by '/'
  bool directory = false;  // the path ended with '/' (or "/." ), or is the root
};
Result<ResourcePath, RequestError> resolve_path(std::string_view encoded_path);

}  // namespace tapstack::apps::http
