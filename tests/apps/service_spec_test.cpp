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

TEST(ServiceSpec, TcpOnlyServicesAreRefusedUntilTcpLands) {
  for (const char* tcp_only : {"chargen:19", "http:80", "http:80:/srv"}) {
    auto spec = parse_service_spec(tcp_only);
    ASSERT_FALSE(spec.ok()) << tcp_only;
    EXPECT_NE(spec.error().find("TCP"), std::string::npos) << spec.error();
  }
}

TEST(ServiceSpec, TwoServicesOnOnePortAreRejected) {
  const std::vector<ServiceSpec> clash = {{ServiceKind::Echo, 7, {}}, {ServiceKind::Discard, 7, {}}};
  EXPECT_FALSE(check_service_specs(clash).ok());
  const std::vector<ServiceSpec> fine = {{ServiceKind::Echo, 7, {}}, {ServiceKind::Discard, 9, {}}};
  EXPECT_TRUE(check_service_specs(fine).ok());
}

TEST(ServiceSpec, MakesOneAppPerProtocol) {
  const auto apps = make_apps(ServiceSpec{ServiceKind::Echo, 7, {}});
  ASSERT_EQ(apps.size(), 1u);  // UDP only until TCP lands
  EXPECT_NE(apps.front()->name().find('7'), std::string::npos);
}

}  // namespace
}  // namespace tapstack::apps
