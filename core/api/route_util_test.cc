// If-None-Match matching and the 200/304 answer of a serialised read.
#include "api/route_util.h"

#include <gtest/gtest.h>

namespace normbase::api {
namespace {

constexpr char kTag[] = "\"0123abcd\"";

TEST(IfNoneMatchTest, MatchesTheTagInAnyOfItsForms) {
  EXPECT_TRUE(IfNoneMatchHits("\"0123abcd\"", kTag));
  EXPECT_TRUE(IfNoneMatchHits("W/\"0123abcd\"", kTag)) << "weak comparison (RFC 9110 13.1.2)";
  EXPECT_TRUE(IfNoneMatchHits("\"x\", \"0123abcd\"", kTag));
  EXPECT_TRUE(IfNoneMatchHits("\"x\",W/\"0123abcd\" ,\"y\"", kTag));
  EXPECT_TRUE(IfNoneMatchHits("\"a,b\", \"0123abcd\"", kTag)) << "a comma inside a tag";
  EXPECT_TRUE(IfNoneMatchHits("*", kTag));
  EXPECT_TRUE(IfNoneMatchHits("  * ", kTag));
}

TEST(IfNoneMatchTest, DoesNotMatchOtherTagsOrGarbage) {
  EXPECT_FALSE(IfNoneMatchHits("", kTag));
  EXPECT_FALSE(IfNoneMatchHits("\"0123abc\"", kTag));
  EXPECT_FALSE(IfNoneMatchHits("\"0123abcd", kTag)) << "unterminated";
  EXPECT_FALSE(IfNoneMatchHits("0123abcd", kTag)) << "unquoted";
  EXPECT_FALSE(IfNoneMatchHits("\"0123abcd\"x", kTag)) << "junk after the tag";
  EXPECT_TRUE(IfNoneMatchHits("\"0123abcd\"x, \"0123abcd\"", kTag))
      << "only the bad member is skipped";
  EXPECT_FALSE(IfNoneMatchHits("w/\"0123abcd\"", kTag)) << "the weak prefix is case-sensitive";
  EXPECT_FALSE(IfNoneMatchHits("\"a\" \"0123abcd\"", kTag)) << "members need a comma between them";
  EXPECT_FALSE(IfNoneMatchHits(",,,", kTag));
}

TEST(ReplyAnswerTest, Answers200WithTheSharedBytesOr304) {
  const service::AnswerPtr answer = service::MakeAnswer("{\"id\":\"x\"}");
  const std::string etag = AnswerEtag(*answer);
  HttpRequest req;
  HttpResponse got;
  const Respond keep = [&got](HttpResponse r) { got = std::move(r); };

  ReplyAnswer(req, keep, answer);
  EXPECT_EQ(got.status, 200);
  EXPECT_EQ(got.shared_body, answer->body) << "the cached bytes, not a copy";
  EXPECT_EQ(got.body_view(), "{\"id\":\"x\"}");
  ASSERT_EQ(got.headers.size(), 2u);
  EXPECT_EQ(got.headers[0], std::make_pair(std::string("ETag"), etag));
  EXPECT_EQ(got.headers[1], std::make_pair(std::string("Cache-Control"), std::string("no-cache")));

  req.if_none_match = etag;
  ReplyAnswer(req, keep, answer);
  EXPECT_EQ(got.status, 304);
  EXPECT_EQ(got.body_size(), 0u);
  EXPECT_EQ(got.headers[0].second, etag);

  ReplyAnswer(req, keep, Status::NotFound("agreement 'x' does not exist"));
  EXPECT_EQ(got.status, 404);
  EXPECT_EQ(got.content_type, "application/problem+json");
}

}  // namespace
}  // namespace normbase::api
