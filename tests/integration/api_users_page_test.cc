// Every list pages with a cursor: the users list too.
#include <gtest/gtest.h>

#include "integration/test_helpers.h"

namespace normbase::testing {
namespace {

TEST(UsersPagination, CursorVisitsEveryUserOnce) {
  ServerProcess server;
  ASSERT_TRUE(server.Start()) << server.output();
  HttpClient admin = ClientFor(server, server.admin_token());
  std::set<int64_t> created = {1};  // the bootstrap admin
  for (int i = 0; i < 7; ++i)
    created.insert(CreateUser(admin, "contributor", "academia", "page").id);
  std::set<int64_t> seen;
  std::string cursor;
  int pages = 0;
  do {
    auto r = admin.Get("/api/v1/users?limit=3" + (cursor.empty() ? "" : "&cursor=" + cursor));
    ASSERT_EQ(r.status, 200) << r.body;
    const json j = r.json();
    EXPECT_LE(j["items"].size(), 3u);
    for (const auto& u : j["items"]) EXPECT_TRUE(seen.insert(u["id"].get<int64_t>()).second);
    cursor = j["next_cursor"].is_null() ? "" : j["next_cursor"].get<std::string>();
    ASSERT_LT(++pages, 10);
  } while (!cursor.empty());
  EXPECT_EQ(seen, created);
  EXPECT_EQ(pages, 3);
  EXPECT_TRUE(IsProblem(admin.Get("/api/v1/users?cursor=abc"), 400, "cursor"));
}

}  // namespace
}  // namespace normbase::testing
