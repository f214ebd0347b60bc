// The HTTP/1.1 request-head parser and path resolution (apps/http_request.hpp), without any
// socket: every status it produces, pipelining, the size limits, and the path rules.
#include "apps/http_request.hpp"

#include <gtest/gtest.h>

#include <string>
#include <variant>

#include "apps/byte_ring.hpp"
#include "apps/generated_content.hpp"
#include "apps/http_server.hpp"

namespace tapstack::apps::http {
namespace {

// The one outcome of reading `text` whole: a request, an error, or NeedMore.
ReadStep read_one(std::string_view text) {
  RequestReader reader;
  EXPECT_EQ(reader.feed(text), text.size());
  return reader.next();
}

Request expect_request(std::string_view text) {
  ReadStep step = read_one(text);
  if (auto* e = std::get_if<RequestError>(&step)) {
    ADD_FAILURE() << "refused with " << e->status << " (" << e->reason << "): " << text;
    return {};
  }
  if (std::holds_alternative<NeedMore>(step)) {
    ADD_FAILURE() << "incomplete: " << text;
    return {};
  }
  return std::get<Request>(std::move(step));
}

int status_of(std::string_view text) {
  ReadStep step = read_one(text);
  if (auto* e = std::get_if<RequestError>(&step)) {
    return e->status;
  }
  return std::holds_alternative<Request>(step) ? 200 : 0;
}

// ---- request heads --------------------------------------------------------------------------------

TEST(HttpRequest, ParsesASimpleGet) {
  const Request r = expect_request("GET /index.html?x=1&y HTTP/1.1\r\nHost: example\r\nAccept: */*\r\n\r\n");
  EXPECT_EQ(r.method, Method::Get);
  EXPECT_EQ(r.target, "/index.html?x=1&y");
  EXPECT_EQ(r.path, "/index.html");
  EXPECT_EQ(r.query, "x=1&y");
  EXPECT_EQ(r.version_minor, 1u);
  EXPECT_TRUE(r.keep_alive);
  ASSERT_EQ(r.fields.size(), 2u);
  EXPECT_EQ(r.fields[0].first, "host");
  EXPECT_EQ(r.fields[0].second, "example");
}

TEST(HttpRequest, ParsesHead) {
  const Request r = expect_request("HEAD / HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_EQ(r.method, Method::Head);
  EXPECT_EQ(r.path, "/");
}

TEST(HttpRequest, FieldNamesAreCaseInsensitiveAndValuesTrimmed) {
  const Request r = expect_request("GET / HTTP/1.1\r\nhOsT:   h  \r\nX-Thing:\tvalue with  spaces \t\r\n\r\n");
  EXPECT_EQ(r.field("HOST"), "h");
  EXPECT_EQ(r.field("x-thing"), "value with  spaces");
  EXPECT_FALSE(r.field("missing").has_value());
}

TEST(HttpRequest, ConnectionHandling) {
  // HTTP/1.1: persistent unless "close" (RFC 9112 9.3), tokens any case, in a list.
  EXPECT_TRUE(expect_request("GET / HTTP/1.1\r\nHost: h\r\n\r\n").keep_alive);
  EXPECT_FALSE(expect_request("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n").keep_alive);
  EXPECT_FALSE(expect_request("GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, CLOSE\r\n\r\n").keep_alive);
  EXPECT_FALSE(expect_request("GET / HTTP/1.1\r\nHost: h\r\nConnection: te\r\nConnection: close\r\n\r\n").keep_alive);
  // HTTP/1.0: closes unless "keep-alive" (RFC 9112 C.2.2); no Host needed.
  EXPECT_FALSE(expect_request("GET / HTTP/1.0\r\n\r\n").keep_alive);
  EXPECT_TRUE(expect_request("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").keep_alive);
  EXPECT_FALSE(expect_request("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n").keep_alive);
  // A later minor version is treated as 1.1 (RFC 9110 2.5).
  const Request r = expect_request("GET / HTTP/1.7\r\nHost: h\r\n\r\n");
  EXPECT_EQ(r.version_minor, 7u);
  EXPECT_TRUE(r.keep_alive);
}

TEST(HttpRequest, AcceptsBareLfAndLeadingEmptyLines) {
  const Request r = expect_request("\r\n\n\r\nGET /a HTTP/1.1\nHost: h\n\n");
  EXPECT_EQ(r.path, "/a");
}

TEST(HttpRequest, AcceptsAbsoluteForm) {
  const Request r = expect_request("GET http://example.com:8080/dir/f?q HTTP/1.1\r\nHost: example.com\r\n\r\n");
  EXPECT_EQ(r.path, "/dir/f");
  EXPECT_EQ(r.query, "q");
  EXPECT_EQ(expect_request("GET HTTP://example.com HTTP/1.1\r\nHost: x\r\n\r\n").path, "/");
  EXPECT_EQ(status_of("GET http:///x HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
}

TEST(HttpRequest, ContentLengthZeroIsFine) {
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n"), 200);
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 0, 0\r\n\r\n"), 200);
}

TEST(HttpRequest, MalformedRequestLinesAre400) {
  for (const char* bad : {
           "GET /\r\n\r\n",                          // HTTP/0.9 style: no version
           "GET  / HTTP/1.1\r\nHost: h\r\n\r\n",     // two spaces
           "GET / HTTP/1.1 \r\nHost: h\r\n\r\n",     // trailing space
           "GET\t/ HTTP/1.1\r\nHost: h\r\n\r\n",     // tab instead of space
           "G(T / HTTP/1.1\r\nHost: h\r\n\r\n",      // method not a token
           "GET / HTTP/1.x\r\nHost: h\r\n\r\n",      // version digits
           "GET / http/1.1\r\nHost: h\r\n\r\n",      // version is case-sensitive
           "GET / HTTP/11\r\nHost: h\r\n\r\n",       // version form
           "GET /a#frag HTTP/1.1\r\nHost: h\r\n\r\n",  // fragment
           "GET /\x7f HTTP/1.1\r\nHost: h\r\n\r\n",  // DEL in the target
           "GET * HTTP/1.1\r\nHost: h\r\n\r\n",      // asterisk-form is for OPTIONS
           "GET example.com:80 HTTP/1.1\r\nHost: h\r\n\r\n",  // authority-form is for CONNECT
           "GET /\rx HTTP/1.1\r\nHost: h\r\n\r\n",   // bare CR
       }) {
    EXPECT_EQ(status_of(bad), 400) << bad;
  }
}

TEST(HttpRequest, MalformedFieldsAre400) {
  for (const char* bad : {
           "GET / HTTP/1.1\r\nHost : h\r\n\r\n",              // space before the colon (RFC 9112 5.1)
           "GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n",     // no colon
           "GET / HTTP/1.1\r\nHost: h\r\n: empty\r\n\r\n",     // empty name
           "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n  folded\r\n\r\n",  // obs-fold (RFC 9112 5.2)
           "GET / HTTP/1.1\r\nHost: h\r\nX: a\x01z\r\n\r\n",   // control character
           "GET / HTTP/1.1\r\nHost: h\r\nX: a\rz\r\n\r\n",     // bare CR in a value
           "GET / HTTP/1.1\r\n\r\n",                           // HTTP/1.1 without Host
           "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",     // two Host fields
           "GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n",     // two Host fields, 1.0 too
           "GET / HTTP/1.1\r\nHost: h\r\nContent-Length: x\r\n\r\n",
           "GET / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n",
           "GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 0, 1\r\n\r\n",
           "GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999999\r\n\r\n",
           "GET / HTTP/1.1\r\nHost: h\r\nContent-Length:\r\n\r\n",
       }) {
    EXPECT_EQ(status_of(bad), 400) << bad;
  }
}

TEST(HttpRequest, RequestsWithContentAre400OrTransferEncoding501) {
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello"), 400);
  EXPECT_EQ(status_of("HEAD / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\n"), 400);
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"), 501);
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"), 501);
}

TEST(HttpRequest, OtherMethodsAre405) {
  for (const char* method : {"POST", "PUT", "DELETE", "OPTIONS", "PATCH", "CONNECT", "TRACE", "get", "Head"}) {
    const std::string request = std::string(method) + " / HTTP/1.1\r\nHost: h\r\n\r\n";
    EXPECT_EQ(status_of(request), 405) << method;
  }
  // 405 wins over the content checks: the method is what is wrong with a POST.
  EXPECT_EQ(status_of("POST /form HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc"), 405);
  EXPECT_EQ(status_of("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n"), 405);
}

TEST(HttpRequest, OtherMajorVersionsAre505) {
  EXPECT_EQ(status_of("GET / HTTP/2.0\r\nHost: h\r\n\r\n"), 505);
  EXPECT_EQ(status_of("GET / HTTP/0.9\r\nHost: h\r\n\r\n"), 505);
}

TEST(HttpRequest, EveryErrorHasAReasonPhrase) {
  for (int status : {200, 400, 404, 405, 414, 431, 501, 505}) {
    EXPECT_NE(reason_phrase(status), "Unknown") << status;
  }
  EXPECT_EQ(reason_phrase(431), "Request Header Fields Too Large");
}

// ---- the reader: incremental input, limits, pipelining ---------------------------------------------

TEST(HttpRequestReader, WaitsForTheWholeHeadFedByteByByte) {
  const std::string text = "GET /slow HTTP/1.1\r\nHost: h\r\n\r\n";
  RequestReader reader;
  for (std::size_t i = 0; i + 1 < text.size(); ++i) {
    ASSERT_EQ(reader.feed(std::string_view(text).substr(i, 1)), 1u);
    ASSERT_TRUE(std::holds_alternative<NeedMore>(reader.next())) << "after " << i + 1 << " bytes";
  }
  reader.feed(std::string_view(text).substr(text.size() - 1));
  ReadStep step = reader.next();
  ASSERT_TRUE(std::holds_alternative<Request>(step));
  EXPECT_EQ(std::get<Request>(step).path, "/slow");
  EXPECT_EQ(reader.buffered(), 0u);
  EXPECT_TRUE(std::holds_alternative<NeedMore>(reader.next()));
}

TEST(HttpRequestReader, PipelinedRequestsComeOutInOrder) {
  std::string text;
  for (int i = 0; i < 20; ++i) {
    text += "GET /r" + std::to_string(i) + " HTTP/1.1\r\nHost: h\r\n\r\n";
  }
  text += "HEAD /last HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\nGET /partial HTTP/1.1\r\n";
  RequestReader reader;
  std::string_view rest = text;
  std::vector<std::string> paths;
  bool last_was_close = false;
  // Fed in odd-sized pieces, taking requests out whenever the reader is full or input is done.
  while (true) {
    rest.remove_prefix(reader.feed(rest.substr(0, 37)));
    ReadStep step = reader.next();
    while (auto* r = std::get_if<Request>(&step)) {
      paths.push_back(r->path);
      last_was_close = !r->keep_alive;
      step = reader.next();
    }
    ASSERT_FALSE(std::holds_alternative<RequestError>(step));
    if (rest.empty()) {
      break;
    }
  }
  ASSERT_EQ(paths.size(), 21u);
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(paths[static_cast<std::size_t>(i)], "/r" + std::to_string(i));
  }
  EXPECT_EQ(paths.back(), "/last");
  EXPECT_TRUE(last_was_close);
  EXPECT_EQ(reader.buffered(), std::string_view("GET /partial HTTP/1.1\r\n").size());
}

TEST(HttpRequestReader, HeadOfExactlyTheLimitIsAccepted) {
  const std::string start = "GET / HTTP/1.1\r\nHost: h\r\nX-Pad: ";
  const std::string end = "\r\n\r\n";
  const std::string text = start + std::string(kHeadSizeMax - start.size() - end.size(), 'p') + end;
  ASSERT_EQ(text.size(), kHeadSizeMax);
  EXPECT_EQ(status_of(text), 200);
}

TEST(HttpRequestReader, HeadBeyondTheLimitIs431) {
  const std::string start = "GET / HTTP/1.1\r\nHost: h\r\nX-Pad: ";
  const std::string text = start + std::string(kHeadSizeMax, 'p') + "\r\n\r\n";
  RequestReader reader;
  EXPECT_EQ(reader.feed(text), kHeadSizeMax);  // takes only what it may hold
  EXPECT_TRUE(reader.full());
  ReadStep step = reader.next();
  ASSERT_TRUE(std::holds_alternative<RequestError>(step));
  EXPECT_EQ(std::get<RequestError>(step).status, 431);
  EXPECT_TRUE(reader.failed());
  // Sticky: the framing is lost.
  ASSERT_TRUE(std::holds_alternative<RequestError>(reader.next()));
}

TEST(HttpRequestReader, RequestLineBeyondTheLimitIs414) {
  const std::string text = "GET /" + std::string(kHeadSizeMax, 'a') + " HTTP/1.1\r\nHost: h\r\n\r\n";
  RequestReader reader;
  reader.feed(text);
  ReadStep step = reader.next();
  ASSERT_TRUE(std::holds_alternative<RequestError>(step));
  EXPECT_EQ(std::get<RequestError>(step).status, 414);
}

TEST(HttpRequestReader, TooManyFieldsIs431) {
  std::string text = "GET / HTTP/1.1\r\nHost: h\r\n";
  for (std::size_t i = 0; i < kHeaderFieldsMax; ++i) {
    text += "X: " + std::to_string(i) + "\r\n";
  }
  text += "\r\n";
  ASSERT_LT(text.size(), kHeadSizeMax);
  EXPECT_EQ(status_of(text), 431);
}

TEST(HttpRequestReader, EmptyLinesDoNotCountAgainstTheLimit) {
  RequestReader reader;
  for (int i = 0; i < 10; ++i) {
    const std::string crlf(kHeadSizeMax / 2, '\n');
    EXPECT_EQ(reader.feed(crlf), crlf.size());
    EXPECT_TRUE(std::holds_alternative<NeedMore>(reader.next()));
    EXPECT_EQ(reader.buffered(), 0u);
  }
  reader.feed(std::string_view("GET / HTTP/1.0\r\n\r\n"));
  EXPECT_TRUE(std::holds_alternative<Request>(reader.next()));
}

TEST(HttpRequestReader, SpaceAndCommitReceiveInPlace) {
  RequestReader reader(64);
  MutableBytes space = reader.space();
  ASSERT_EQ(space.size(), 64u);
  const std::string text = "GET /x HTTP/1.0\r\n\r\n";
  for (std::size_t i = 0; i < text.size(); ++i) {
    space[i] = static_cast<std::byte>(text[i]);
  }
  reader.commit(text.size());
  EXPECT_EQ(reader.space().size(), 64 - text.size());
  ReadStep step = reader.next();
  ASSERT_TRUE(std::holds_alternative<Request>(step));
  EXPECT_EQ(std::get<Request>(step).path, "/x");
  EXPECT_EQ(reader.space().size(), 64u);
}

TEST(HttpRequestReader, AnErrorInTheSecondRequestLeavesTheFirstIntact) {
  RequestReader reader;
  reader.feed(std::string_view("GET /ok HTTP/1.1\r\nHost: h\r\n\r\nBREW /pot HTCPCP/1.0\r\n\r\n"));
  ASSERT_TRUE(std::holds_alternative<Request>(reader.next()));
  ReadStep second = reader.next();
  ASSERT_TRUE(std::holds_alternative<RequestError>(second));
  EXPECT_EQ(std::get<RequestError>(second).status, 400);
}

// ---- paths -------------------------------------------------------------------------------------------

ResourcePath expect_path(std::string_view encoded) {
  auto p = resolve_path(encoded);
  if (!p.ok()) {
    ADD_FAILURE() << encoded << " refused: " << p.error().reason;
    return {};
  }
  return *p;
}

TEST(HttpPath, DecodesAndNormalises) {
  EXPECT_EQ(expect_path("/").relative, "");
  EXPECT_TRUE(expect_path("/").directory);
  EXPECT_EQ(expect_path("/a/b.txt").relative, "a/b.txt");
  EXPECT_FALSE(expect_path("/a/b.txt").directory);
  EXPECT_EQ(expect_path("/a%20b/c%2Fd").relative, "a b/c/d");
  EXPECT_EQ(expect_path("/%41%62%63").relative, "Abc");
  EXPECT_EQ(expect_path("//a///b/./c/.").relative, "a/b/c");
  EXPECT_TRUE(expect_path("/a/b/").directory);
  EXPECT_TRUE(expect_path("/a/b/.").directory);
  EXPECT_EQ(expect_path("/a/b/").relative, "a/b");
  EXPECT_EQ(expect_path("/...").relative, "...");           // a name, not a parent
  EXPECT_EQ(expect_path("/..a/b..").relative, "..a/b..");
  EXPECT_EQ(expect_path("/%C3%A9t%C3%A9").relative, "\xC3\xA9t\xC3\xA9");
}

TEST(HttpPath, RefusesEveryEscape) {
  for (const char* bad : {
           "/..", "/../etc/passwd", "/a/../../b", "/a/..", "/%2e%2e/x", "/%2E%2E", "/.%2e/x", "/a/..%2f..%2fb",
           "/a%2f..%2f..", "/a\\..\\b", "/a%5c..%5cb", "/a%00b", "/a%00", "/%0a", "/a%7f", "/%", "/%4", "/%zz",
           "/%%41", "relative", "",
       }) {
    auto p = resolve_path(bad);
    ASSERT_FALSE(p.ok()) << bad << " resolved to '" << p->relative << "'";
    EXPECT_EQ(p.error().status, 400) << bad;
  }
}

// ---- helpers the services share ---------------------------------------------------------------------

TEST(GeneratedContent, ChargenLinesFollowRfc864) {
  // Line 0 starts with ' ', line 1 with '!', each 72 characters then CR LF.
  std::string first_two;
  for (std::uint64_t i = 0; i < 2 * kChargenLineBytes; ++i) {
    first_two.push_back(static_cast<char>(chargen_byte_at(i)));
  }
  EXPECT_EQ(first_two.substr(0, 10), " !\"#$%&'()");
  EXPECT_EQ(first_two.substr(72, 2), "\r\n");
  EXPECT_EQ(first_two.substr(74, 5), "!\"#$%");
  EXPECT_EQ(first_two.substr(146, 2), "\r\n");
  // Line 94 starts with '~' and wraps to ' '; line 95 is line 0 again.
  EXPECT_EQ(static_cast<char>(chargen_byte_at(94 * kChargenLineBytes)), '~');
  EXPECT_EQ(static_cast<char>(chargen_byte_at(94 * kChargenLineBytes + 1)), ' ');
  EXPECT_EQ(chargen_byte_at(95 * kChargenLineBytes), chargen_byte_at(0));
  // The table spans agree with the formula everywhere, across periods.
  for (std::uint64_t offset : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{7029}, std::uint64_t{7030},
                               std::uint64_t{123456789}, std::uint64_t{1} << 40}) {
    const Bytes span = chargen_span_at(offset);
    ASSERT_GE(span.size(), 1000u);
    for (std::size_t i = 0; i < span.size(); i += 97) {
      ASSERT_EQ(span[i], chargen_byte_at(offset + i)) << offset << "+" << i;
    }
  }
}

TEST(GeneratedContent, BytesPatternIsAlphabet) {
  EXPECT_EQ(static_cast<char>(bytes_pattern_at(0)), 'a');
  EXPECT_EQ(static_cast<char>(bytes_pattern_at(25)), 'z');
  EXPECT_EQ(static_cast<char>(bytes_pattern_at(26)), 'a');
  for (std::uint64_t offset : {std::uint64_t{0}, std::uint64_t{5}, std::uint64_t{65519}, std::uint64_t{1} << 40}) {
    const Bytes span = bytes_pattern_span_at(offset);
    ASSERT_GE(span.size(), 60000u);
    for (std::size_t i = 0; i < span.size(); i += 13) {
      ASSERT_EQ(span[i], bytes_pattern_at(offset + i));
    }
  }
}

TEST(ByteRing, WrapsAndKeepsOrder) {
  ByteRing ring(10);
  EXPECT_EQ(ring.write_span().size(), 10u);
  ByteVector data(7);
  for (std::size_t i = 0; i < data.size(); ++i) {
    data[i] = static_cast<std::byte>(i);
  }
  EXPECT_EQ(ring.push(as_bytes(data)), 7u);
  ring.consume(5);  // head at 5, 2 bytes held
  EXPECT_EQ(ring.write_span().size(), 3u);  // up to the end; the rest after wrapping
  EXPECT_EQ(ring.push(as_bytes(data)), 7u);  // wraps
  EXPECT_EQ(ring.size(), 9u);
  EXPECT_EQ(ring.push(as_bytes(data)), 1u);  // only what fits
  EXPECT_TRUE(ring.full());
  EXPECT_TRUE(ring.write_span().empty());
  std::vector<int> out;
  while (!ring.empty()) {
    const Bytes span = ring.read_span();
    ASSERT_FALSE(span.empty());
    for (std::byte b : span) {
      out.push_back(static_cast<int>(b));
    }
    ring.consume(span.size());
  }
  EXPECT_EQ(out, (std::vector<int>{5, 6, 0, 1, 2, 3, 4, 5, 6, 0}));
}

TEST(HttpServerContentType, ByExtension) {
  EXPECT_EQ(HttpServer::content_type("index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(HttpServer::content_type("a/B.PNG"), "image/png");
  EXPECT_EQ(HttpServer::content_type("dir.d/noext"), "application/octet-stream");
  EXPECT_EQ(HttpServer::content_type(".hidden"), "application/octet-stream");
}

}  // namespace
}  // namespace tapstack::apps::http
