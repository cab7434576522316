#include "store/conninfo.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace mdesync::store {
namespace {

constexpr const char* all_added =
    "connect_timeout=10&keepalives=1&keepalives_idle=30&keepalives_interval=10&keepalives_count=3&"
    "tcp_user_timeout=60000";

TEST(Conninfo, AUriGetsEveryNetworkDeadlineAsQueryParameters) {
  EXPECT_EQ(with_network_deadlines("postgresql://u@db.example:5432/inv"),
            std::string("postgresql://u@db.example:5432/inv?") + all_added);
  EXPECT_EQ(with_network_deadlines("postgres://u@db/inv?sslmode=verify-full"),
            std::string("postgres://u@db/inv?sslmode=verify-full&") + all_added);
}

TEST(Conninfo, KeyValueConninfoGetsThemAsPairs) {
  EXPECT_EQ(with_network_deadlines("host=db dbname=inv"),
            "host=db dbname=inv connect_timeout=10 keepalives=1 keepalives_idle=30 keepalives_interval=10 "
            "keepalives_count=3 tcp_user_timeout=60000");
}

TEST(Conninfo, WhatTheUserSetIsKept) {
  EXPECT_EQ(with_network_deadlines("postgresql://db/inv?connect_timeout=3&keepalives_idle=5"),
            "postgresql://db/inv?connect_timeout=3&keepalives_idle=5&keepalives=1&keepalives_interval=10&"
            "keepalives_count=3&tcp_user_timeout=60000");
  EXPECT_EQ(with_network_deadlines("host=db keepalives=0 tcp_user_timeout=1000"),
            "host=db keepalives=0 tcp_user_timeout=1000 connect_timeout=10 keepalives_idle=30 "
            "keepalives_interval=10 keepalives_count=3");
}

TEST(Conninfo, WhatLibpqCannotParseIsRefusedWithItsReason) {
  EXPECT_THROW(with_network_deadlines("host=db nonsense"), std::invalid_argument);
  EXPECT_THROW(with_network_deadlines("postgresql://db/inv?no_such_option=1"), std::invalid_argument);
}

}  // namespace
}  // namespace mdesync::store
