#pragma once
// The network deadlines every PostgreSQL connection mdesync opens carries,
// unless the user's database.url sets them itself.
//
// Why each (a silent network is worse than a broken one):
//  - connect_timeout 10 s: the whole connection attempt, startup and
//    authentication included; without it a server that accepts TCP and never
//    answers holds the connect forever, a dropped SYN for about two minutes.
//  - keepalives on, idle 30 s, interval 10 s, count 3: a connection waiting for
//    a result learns within about a minute that the peer is gone; the kernel's
//    default is two hours.
//  - tcp_user_timeout 60 s: data sent and never acknowledged (a firewall that
//    dropped the connection's state) fails the socket after a minute.
// None of them can tell a live middlebox that stopped forwarding from a slow
// server: the statement deadlines (see Connection::deadline) and the pull's
// stall watch cover that.
#include <string>

namespace mdesync::store {

inline constexpr int connect_timeout_seconds = 10;
inline constexpr int keepalives_idle_seconds = 30;
inline constexpr int keepalives_interval_seconds = 10;
inline constexpr int keepalives_count = 3;
inline constexpr int tcp_user_timeout_ms = 60'000;

// `conninfo` (a postgresql:// URI or key=value pairs) with each of the settings
// above appended that it does not set. Throws std::invalid_argument with libpq's
// message when libpq cannot parse it.
std::string with_network_deadlines(const std::string& conninfo);

}  // namespace mdesync::store
