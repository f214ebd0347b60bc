#include "apps/http_request.hpp"

#include <algorithm>
#include <cstring>

namespace tapstack::apps::http {

namespace {

RequestError error(int status, std::string reason) { return RequestError{status, std::move(reason)}; }

// RFC 9110 5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" /
// "`" / "|" / "~" / DIGIT / ALPHA.
bool is_tchar(char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
    return true;
  }
  return std::strchr("!#$%&'*+-.^_`|~", c) != nullptr && c != '\0';
}

bool is_token(std::string_view s) { return !s.empty() && std::all_of(s.begin(), s.end(), is_tchar); }

char to_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (to_lower(a[i]) != to_lower(b[i])) {
      return false;
    }
  }
  return true;
}

bool istarts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

// RFC 9110 5.6.3: OWS = *( SP / HTAB ).
std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

// RFC 9110 5.5: field-value characters are VCHAR, obs-text, SP and HTAB; no other CTL, no DEL.
bool valid_field_value(std::string_view v) {
  for (char ch : v) {
    const auto c = static_cast<unsigned char>(ch);
    if (c != '\t' && (c < 0x20 || c == 0x7f)) {
      return false;
    }
  }
  return true;
}

// Calls f(element) for every element of a comma-separated list (RFC 9110 5.6.1), trimmed, empty
// elements skipped.
template <class F>
void for_each_list_element(std::string_view value, F&& f) {
  while (true) {
    const std::size_t comma = value.find(',');
    const std::string_view element = trim_ows(value.substr(0, comma));
    if (!element.empty()) {
      f(element);
    }
    if (comma == std::string_view::npos) {
      return;
    }
    value.remove_prefix(comma + 1);
  }
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

// The line without its terminator: "...\r\n" and "...\n" both end a line (RFC 9112 2.2).
std::string_view strip_cr(std::string_view line) {
  if (!line.empty() && line.back() == '\r') {
    line.remove_suffix(1);
  }
  return line;
}

struct RequestLine {
  std::string_view method;
  std::string_view target;
  unsigned version_minor = 1;
};

// RFC 9112 3: request-line = method SP request-target SP HTTP-version. Single spaces only: a
// recipient may be lenient about other whitespace, but a lenient split is exactly what request
// smuggling feeds on (RFC 9112 3 last paragraph), so this one is not.
Result<RequestLine, RequestError> parse_request_line(std::string_view line) {
  const std::size_t sp1 = line.find(' ');
  const std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
    return fail(error(400, "bad request line: expected METHOD SP TARGET SP HTTP/1.x"));
  }
  RequestLine r;
  r.method = line.substr(0, sp1);
  r.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  if (!is_token(r.method)) {
    return fail(error(400, "bad request line: the method is not a token"));
  }
  if (r.target.empty()) {
    return fail(error(400, "bad request line: empty request target"));
  }
  for (char ch : r.target) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c >= 0x7f || ch == '#') {
      return fail(error(400, "bad request target: characters outside a URI (RFC 3986)"));
    }
  }
  // RFC 9112 2.3: HTTP-version = "HTTP" "/" DIGIT "." DIGIT, case-sensitive.
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[5] < '0' || version[5] > '9' ||
      version[6] != '.' || version[7] < '0' || version[7] > '9') {
    return fail(error(400, "bad request line: the version is not HTTP/x.y"));
  }
  if (version[5] != '1') {
    return fail(error(505, "only HTTP/1.x is supported"));
  }
  r.version_minor = static_cast<unsigned>(version[7] - '0');
  return r;
}

// Splits the target into path and query (RFC 9112 3.2.1 origin-form, 3.2.2 absolute-form).
Result<Unit, RequestError> split_target(std::string_view target, Request& out) {
  std::string_view rest;
  if (target.front() == '/') {
    rest = target;
  } else if (istarts_with(target, "http://") || istarts_with(target, "https://")) {
    // RFC 9112 3.2.2: a server MUST accept the absolute-form; the path is what it names here
    // (the authority is ours or a name for us: there is one site).
    const std::string_view after_scheme = target.substr(target.find("//") + 2);
    const std::size_t end = after_scheme.find_first_of("/?");
    if (end == 0 || after_scheme.empty()) {
      return fail(error(400, "bad request target: absolute-form without a host"));
    }
    rest = end == std::string_view::npos ? std::string_view{} : after_scheme.substr(end);
  } else {
    // asterisk-form is for OPTIONS only, authority-form for CONNECT only (RFC 9112 3.2.3, 3.2.4).
    return fail(error(400, "bad request target: expected /path or http://host/path"));
  }
  const std::size_t question = rest.find('?');
  const std::string_view path = rest.substr(0, question);
  out.path = path.empty() ? std::string("/") : std::string(path);
  out.query = question == std::string_view::npos ? std::string{} : std::string(rest.substr(question + 1));
  return Unit{};
}

}  // namespace

std::optional<std::string_view> Request::field(std::string_view name) const {
  for (const auto& [n, v] : fields) {
    if (iequals(n, name)) {
      return std::string_view(v);
    }
  }
  return std::nullopt;
}

std::string_view reason_phrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 414: return "URI Too Long";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
  }
}

Result<Request, RequestError> parse_request_head(std::string_view head) {
  // Lines, each without its terminator; the head ends with an empty line.
  std::vector<std::string_view> lines;
  while (!head.empty()) {
    const std::size_t lf = head.find('\n');
    const std::string_view line = strip_cr(head.substr(0, lf));
    // RFC 9112 2.2: a bare CR anywhere but before LF is invalid.
    if (line.find('\r') != std::string_view::npos) {
      return fail(error(400, "bare CR in the request head"));
    }
    if (line.empty() && !lines.empty()) {
      break;  // the end of the head
    }
    if (!line.empty()) {
      lines.push_back(line);
    }
    if (lf == std::string_view::npos) {
      break;
    }
    head.remove_prefix(lf + 1);
  }
  if (lines.empty()) {
    return fail(error(400, "empty request"));
  }
  auto request_line = parse_request_line(lines.front());
  if (!request_line.ok()) {
    return fail(request_line.error());
  }
  Request request;
  request.target = std::string(request_line->target);
  request.version_minor = request_line->version_minor;

  // RFC 9112 5: field-line = field-name ":" OWS field-value OWS.
  if (lines.size() - 1 > kHeaderFieldsMax) {
    return fail(error(431, "more than " + std::to_string(kHeaderFieldsMax) + " header fields"));
  }
  std::size_t hosts = 0;
  bool close = false;
  bool keep_alive_token = false;
  bool transfer_encoding = false;
  std::optional<std::uint64_t> content_length;
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const std::string_view line = lines[i];
    if (line.front() == ' ' || line.front() == '\t') {
      return fail(error(400, "obsolete line folding in a header field (RFC 9112 5.2)"));
    }
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      return fail(error(400, "header field line without ':'"));
    }
    const std::string_view name = line.substr(0, colon);
    if (!name.empty() && (name.back() == ' ' || name.back() == '\t')) {
      return fail(error(400, "whitespace between a header field name and ':' (RFC 9112 5.1)"));
    }
    if (!is_token(name)) {
      return fail(error(400, "header field name is not a token"));
    }
    const std::string_view value = trim_ows(line.substr(colon + 1));
    if (!valid_field_value(value)) {
      return fail(error(400, "control character in a header field value"));
    }
    std::string lower(name);
    std::transform(lower.begin(), lower.end(), lower.begin(), to_lower);
    if (lower == "host") {
      hosts++;
    } else if (lower == "connection") {
      // RFC 9112 9.6 / 9.3: "close" ends the connection after the response; "keep-alive" asks
      // an HTTP/1.0 server to keep it (RFC 9112 C.2.2).
      for_each_list_element(value, [&](std::string_view option) {
        close = close || iequals(option, "close");
        keep_alive_token = keep_alive_token || iequals(option, "keep-alive");
      });
    } else if (lower == "transfer-encoding") {
      transfer_encoding = true;
    } else if (lower == "content-length") {
      // RFC 9112 6.3 item 5: a list of identical values may stand for one; anything else
      // (differing values, non-digits) is unrecoverable framing: 400.
      bool bad = false;
      std::size_t elements = 0;
      for_each_list_element(value, [&](std::string_view element) {
        elements++;
        std::uint64_t n = 0;
        for (char c : element) {
          if (c < '0' || c > '9' || n > (UINT64_MAX - 9) / 10) {
            bad = true;
            return;
          }
          n = n * 10 + static_cast<std::uint64_t>(c - '0');
        }
        if (content_length && *content_length != n) {
          bad = true;
        }
        content_length = n;
      });
      if (bad || elements == 0) {
        return fail(error(400, "invalid Content-Length"));
      }
    }
    request.fields.emplace_back(std::move(lower), std::string(value));
  }
  // RFC 9112 3.2: "A server MUST respond with a 400 (Bad Request) status code to any HTTP/1.1
  // request message that lacks a Host header field and to any request message that contains
  // more than one Host header field line".
  if (hosts > 1) {
    return fail(error(400, "more than one Host header field"));
  }
  if (hosts == 0 && request.version_minor >= 1) {
    return fail(error(400, "HTTP/1.1 request without a Host header field"));
  }

  const std::string_view method = request_line->method;
  if (method == "GET") {
    request.method = Method::Get;
  } else if (method == "HEAD") {
    request.method = Method::Head;
  } else {
    return fail(error(405, "only GET and HEAD are served"));
  }
  if (transfer_encoding) {
    return fail(error(501, "Transfer-Encoding is not supported"));
  }
  if (content_length && *content_length > 0) {
    return fail(error(400, "GET and HEAD requests with content are not accepted"));
  }
  if (auto split = split_target(request_line->target, request); !split.ok()) {
    return fail(split.error());
  }
  // RFC 9112 9.3: HTTP/1.1 persists unless "close"; HTTP/1.0 only with "keep-alive".
  request.keep_alive = request.version_minor >= 1 ? !close : (keep_alive_token && !close);
  return request;
}

Result<ResourcePath, RequestError> resolve_path(std::string_view encoded_path) {
  if (encoded_path.empty() || encoded_path.front() != '/') {
    return fail(error(400, "the path does not start with '/'"));
  }
  // RFC 3986 2.1: percent-decoding first, so that encoded dots and slashes are judged as what
  // they name ("%2e%2e%2f" is "../").
  std::string decoded;
  decoded.reserve(encoded_path.size());
  for (std::size_t i = 0; i < encoded_path.size(); ++i) {
    char c = encoded_path[i];
    if (c == '%') {
      const bool two_more = i + 2 < encoded_path.size();
      const int hi = two_more ? hex_value(encoded_path[i + 1]) : -1;
      const int lo = two_more ? hex_value(encoded_path[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        return fail(error(400, "malformed percent-encoding in the path"));
      }
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    }
    const auto u = static_cast<unsigned char>(c);
    if (c == '\0') {
      return fail(error(400, "NUL in the path"));
    }
    if (c == '\\') {
      return fail(error(400, "backslash in the path"));
    }
    if (u < 0x20 || u == 0x7f) {
      return fail(error(400, "control character in the path"));
    }
    decoded.push_back(c);
  }
  ResourcePath out;
  std::string_view rest = std::string_view(decoded).substr(1);
  std::string_view last;
  while (true) {
    const std::size_t slash = rest.find('/');
    const std::string_view segment = rest.substr(0, slash);
    last = segment;
    if (segment == "..") {
      return fail(error(400, "'..' in the path"));
    }
    if (!segment.empty() && segment != ".") {
      if (!out.relative.empty()) {
        out.relative.push_back('/');
      }
      out.relative.append(segment);
    }
    if (slash == std::string_view::npos) {
      break;
    }
    rest.remove_prefix(slash + 1);
  }
  out.directory = out.relative.empty() || last.empty() || last == ".";
  return out;
}

// ---- RequestReader ------------------------------------------------------------------------------

RequestReader::RequestReader(std::size_t head_size_max) : buffer_(std::max<std::size_t>(head_size_max, 1)) {}

MutableBytes RequestReader::space() {
  return MutableBytes{reinterpret_cast<std::byte*>(buffer_.data()) + size_, buffer_.size() - size_};
}

void RequestReader::commit(std::size_t n) { size_ += std::min(n, buffer_.size() - size_); }

std::size_t RequestReader::feed(Bytes data) {
  MutableBytes free = space();
  const std::size_t n = std::min(free.size(), data.size());
  std::copy_n(data.begin(), n, free.begin());
  commit(n);
  return n;
}

std::size_t RequestReader::feed(std::string_view data) { return feed(std::as_bytes(std::span(data))); }

void RequestReader::drop_front(std::size_t n) {
  std::memmove(buffer_.data(), buffer_.data() + n, size_ - n);
  size_ -= n;
  scan_ -= std::min(scan_, n);
  line_start_ -= std::min(line_start_, n);
  head_start_ -= std::min(head_start_, n);
}

std::optional<std::size_t> RequestReader::find_head_end() {
  while (scan_ < size_) {
    if (buffer_[scan_] != '\n') {
      ++scan_;
      continue;
    }
    std::size_t line_end = scan_;
    if (line_end > line_start_ && buffer_[line_end - 1] == '\r') {
      line_end--;
    }
    const bool empty = line_end == line_start_;
    ++scan_;
    if (empty && !first_line_ended_) {
      // RFC 9112 2.2: empty lines before the request line are ignored. They are skipped here
      // and dropped in one go, so they never count against the head size (and a stream of
      // them costs linear time).
      head_start_ = scan_;
      line_start_ = scan_;
      continue;
    }
    if (empty) {
      return scan_;
    }
    first_line_ended_ = true;
    line_start_ = scan_;
  }
  if (head_start_ > 0) {
    drop_front(head_start_);
  }
  return std::nullopt;
}

ReadStep RequestReader::next() {
  if (failed_) {
    return *failed_;
  }
  const std::optional<std::size_t> end = find_head_end();
  if (!end) {
    if (full()) {
      failed_ = first_line_ended_
                    ? error(431, "request head larger than " + std::to_string(buffer_.size()) + " bytes")
                    : error(414, "request line longer than " + std::to_string(buffer_.size()) + " bytes");
      return *failed_;
    }
    return NeedMore{};
  }
  auto request = parse_request_head(std::string_view(buffer_.data() + head_start_, *end - head_start_));
  drop_front(*end);
  scan_ = 0;
  line_start_ = 0;
  first_line_ended_ = false;
  if (!request.ok()) {
    failed_ = request.error();
    return *failed_;
  }
  return std::move(*request);
}

}  // namespace tapstack::apps::http
