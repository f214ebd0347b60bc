#include "apps/service_spec.hpp"

#include <gtest/gtest.h>

namespace tapstack::apps {
namespace {

TEST(ServiceSpec, ParsesEchoAndDiscard) {
  auto echo = parse_service_spec("echo:7");
  ASSERT_TRUE(echo.ok()) << echo.error();
  EXPECT_EQ(echo->kind, ServiceKind::Echo);
  EXPECT_EQ(echo->port, 7);
  auto discard = parse_service_spec("discard:65535");
  ASSERT_TRUE(discard.ok()) << discard.error();
  EXPECT_EQ(discard->kind, ServiceKind::Discard);
  EXPECT_EQ(discard->port, 65535);
}

TEST(ServiceSpec, RejectsBadSpecsWithTheAcceptedForm) {
  for (const char* bad : {"echo", "echo:", "echo:0", "echo:65536", "echo:-1", "echo:7x", "ftp:21", ":7", ""}) {
    auto spec = parse_service_spec(bad);
    ASSERT_FALSE(spec.ok()) << bad;
    EXPECT_NE(spec.error().find("echo:PORT"), std::string::npos) << bad << ": " << spec.error();
    EXPECT_EQ(spec.error().find('\n'), std::string::npos) << "one line: " << spec.error();
  }
}

TEST(ServiceSpec, ParsesChargenAndHttp) {
  auto chargen = parse_service_spec("chargen:19");
  ASSERT_TRUE(chargen.ok()) << chargen.error();
  EXPECT_EQ(*chargen, (ServiceSpec{ServiceKind::Chargen, 19, {}}));
  auto http = parse_service_spec("http:8080");
  ASSERT_TRUE(http.ok()) << http.error();
  EXPECT_EQ(*http, (ServiceSpec{ServiceKind::Http, 8080, {}}));
  auto with_dir = parse_service_spec("http:80:/srv/www");
  ASSERT_TRUE(with_dir.ok()) << with_dir.error();
  EXPECT_EQ(*with_dir, (ServiceSpec{ServiceKind::Http, 80, "/srv/www"}));
  // DIR is everything after the second ':', colons included.
  auto colon_dir = parse_service_spec("http:80:/srv/a:b");
  ASSERT_TRUE(colon_dir.ok()) << colon_dir.error();
  EXPECT_EQ(colon_dir->dir, "/srv/a:b");
}

TEST(ServiceSpec, RejectsBadTcpSpecs) {
  for (const char* bad : {"chargen:", "chargen:0", "chargen:19:/tmp", "http:", "http::/tmp", "http:0:/tmp",
                          "http:80:", "http:65536", "https:443"}) {
    auto spec = parse_service_spec(bad);
    ASSERT_FALSE(spec.ok()) << bad;
    EXPECT_NE(spec.error().find("http:PORT[:DIR]"), std::string::npos) << bad << ": " << spec.error();
    EXPECT_EQ(spec.error().find('\n'), std::string::npos) << "one line: " << spec.error();
  }
}

TEST(ServiceSpec, TwoServicesOnOnePortAreRejected) {
  const std::vector<ServiceSpec> clash = {{ServiceKind::Echo, 7, {}}, {ServiceKind::Discard, 7, {}}};
  EXPECT_FALSE(check_service_specs(clash).ok());
  const std::vector<ServiceSpec> fine = {{ServiceKind::Echo, 7, {}}, {ServiceKind::Discard, 9, {}}};
  EXPECT_TRUE(check_service_specs(fine).ok());
}

TEST(ServiceSpec, PortsClashPerProtocol) {
  // http and chargen take the TCP port only; echo and discard take both.
  const std::vector<ServiceSpec> tcp_clash = {{ServiceKind::Http, 80, {}}, {ServiceKind::Echo, 80, {}}};
  auto clash = check_service_specs(tcp_clash);
  ASSERT_FALSE(clash.ok());
  EXPECT_EQ(clash.error(), "'echo:80': TCP port 80 is already served by 'http:80'");
  const std::vector<ServiceSpec> two_tcp = {{ServiceKind::Chargen, 19, {}}, {ServiceKind::Http, 19, {}}};
  EXPECT_FALSE(check_service_specs(two_tcp).ok());
  const std::vector<ServiceSpec> fine = {{ServiceKind::Http, 80, {}},
                                         {ServiceKind::Chargen, 19, {}},
                                         {ServiceKind::Echo, 7, {}},
                                         {ServiceKind::Discard, 9, {}}};
  EXPECT_TRUE(check_service_specs(fine).ok());
}

TEST(ServiceSpec, MakesOneAppPerProtocol) {
  const auto echo = make_apps(ServiceSpec{ServiceKind::Echo, 7, {}});
  ASSERT_EQ(echo.size(), 2u);
  EXPECT_EQ(echo[0]->name(), "tcp_echo_7");
  EXPECT_EQ(echo[1]->name(), "udp_echo_7");
  const auto discard = make_apps(ServiceSpec{ServiceKind::Discard, 9, {}});
  ASSERT_EQ(discard.size(), 2u);
  EXPECT_EQ(discard[0]->name(), "tcp_discard_9");
  EXPECT_EQ(discard[1]->name(), "udp_discard_9");
  const auto chargen = make_apps(ServiceSpec{ServiceKind::Chargen, 19, {}});
  ASSERT_EQ(chargen.size(), 1u);
  EXPECT_EQ(chargen[0]->name(), "tcp_chargen_19");
  auto files = std::make_unique<MemoryFileSource>();
  files->add("index.html", "hello");
  const auto http = make_apps(ServiceSpec{ServiceKind::Http, 80, "/srv"}, std::move(files));
  ASSERT_EQ(http.size(), 1u);
  EXPECT_EQ(http[0]->name(), "http_80");
  EXPECT_NE(http[0]->description().find("1 files in memory"), std::string::npos) << http[0]->description();
}

}  // namespace
}  // namespace tapstack::apps
