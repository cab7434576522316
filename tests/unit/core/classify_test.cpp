#include "core/classify.hpp"

#include <gtest/gtest.h>

namespace mdesync {
namespace {

TEST(Classify, HttpStatusesThatABusyServiceAnswersAreRetriedTheRestIsFatal) {
  for (const int status : {408, 429, 500, 502, 503, 504})
    EXPECT_EQ(classify_http_status(status), Recovery::retry) << status;
  // 501 and 505: the server will never do it; 4xx: the request itself is wrong.
  for (const int status : {400, 404, 405, 409, 413, 501, 505})
    EXPECT_EQ(classify_http_status(status), Recovery::fatal) << status;
}

TEST(Classify, SqlstatesOfALostConnectionReconnectTransientOnesRetry) {
  for (const char* s : {"08000", "08003", "08006", "08001", "57P01", "57P02", "57P03", "57P05"})
    EXPECT_EQ(classify_sqlstate(s), Recovery::reconnect) << s;
  for (const char* s : {"40001", "40P01", "55P03", "57014", "53100", "53200", "53300"})
    EXPECT_EQ(classify_sqlstate(s), Recovery::retry) << s;
  for (const char* s : {"23505", "42P01", "42601", "22P02", "", "0800", "XX000"})
    EXPECT_EQ(classify_sqlstate(s), Recovery::fatal) << s;
}

TEST(Classify, ErrorKindsMapToWhatTheCallerDoes) {
  EXPECT_EQ(classify(Error(ErrorKind::transient, "")), Recovery::retry);
  EXPECT_EQ(classify(Error(ErrorKind::throttled, "")), Recovery::retry);
  EXPECT_EQ(classify(Error(ErrorKind::data, "")), Recovery::retry);
  EXPECT_EQ(classify(Error(ErrorKind::auth, "")), Recovery::fatal);
  EXPECT_EQ(classify(Error(ErrorKind::config, "")), Recovery::fatal);
  EXPECT_EQ(classify(Error(ErrorKind::fatal, "")), Recovery::fatal);
}

}  // namespace
}  // namespace mdesync
