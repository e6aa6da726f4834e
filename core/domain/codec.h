// JSON codecs for the domain types: one place that knows how every record
// looks on the wire and on disk. Decoding never throws: a malformed document
// gives an InvalidArgument naming the field ("agreement.year: expected an
// integer or null"). Only nlohmann's forward declarations leak into includers.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <span>
#include <string_view>

#include "domain/agreement.h"
#include "domain/codebook.h"
#include "domain/event.h"
#include "domain/proposal.h"
#include "domain/review_policy.h"
#include "domain/status.h"
#include "domain/user.h"

namespace normbase::domain {

using Json = nlohmann::json;

// kInput: a client's document — unknown fields are refused and bookkeeping
// (revision, retired) is ignored. kStored: our own record, read back in full.
enum class Decode { kInput, kStored };

Json ToJson(const Evidence& e);
Json ToJson(const Coding& c);
Json CodingsToJson(const std::map<std::string, Coding>& codings);
Json ToJson(const Agreement& a);
Result<Agreement> AgreementFromJson(const Json& j, Decode mode, const std::string& where = "agreement");
Result<std::map<std::string, Coding>> CodingsFromJson(const Json& j, const std::string& where);

Json ToJson(const Codebook& c);
Result<Codebook> CodebookFromJson(const Json& j);

Json ToJson(const Proposal& p);  // the whole proposal, comments and reviews included
// Reads a whole proposal, or a head record without "comments" and "reviews".
Result<Proposal> ProposalFromJson(const Json& j);
Json ToJson(const Review& r);
Result<Review> ReviewFromJson(const Json& j);  // a stored review
Json ToJson(const Comment& c);
Result<Comment> CommentFromJson(const Json& j);  // a stored comment
Json ToJson(const ProposalRevision& r);
// A stored revision; one without "proposed" (a head's, see store/records.h)
// reads as having none.
Result<ProposalRevision> RevisionFromJson(const Json& j);

Json ToJson(const ReviewStatus& s);

Json ToJson(const User& u);
Result<User> UserFromJson(const Json& j);
Json ToJson(const TokenRecord& t);
Result<TokenRecord> TokenRecordFromJson(const Json& j);

Json ToJson(const Event& e);  // payload is embedded as a JSON value
// The same document as Dump(ToJson(e)), up to the order of its keys, made
// without parsing the payload into a tree: how the store writes events and
// the live stream sends them. `kind`, when given, is added as "kind". The
// payload must be a JSON object as Dump wrote it; anything not shaped like
// an object ({...}) is written as {}.
std::string EncodeEvent(const Event& e, std::string_view kind = {});
Result<Event> EventFromJson(const Json& j);

// Parses text as JSON without throwing; the message says where it broke.
Result<Json> ParseJson(std::string_view text);
// Serialises; invalid UTF-8 in strings is replaced rather than thrown on.
std::string Dump(const Json& j);

// A member to add to a JSON object's text: its name (plain: no character
// that needs escaping) and its value, JSON text already written.
struct JsonMember {
  std::string_view name;
  std::string_view text;
};
// `object`, the text of a JSON object with at least one member (as Dump
// writes it: ends in '}'), with `members` added at its end. Parts that many
// documents share are written once and spliced (job inputs, docs/plugins.md).
std::string WithMembers(std::string object, std::span<const JsonMember> members);

}  // namespace normbase::domain
