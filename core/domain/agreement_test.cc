#include "domain/agreement.h"

#include <gtest/gtest.h>

#include <string>

namespace normbase::domain {
namespace {

Codebook TestCodebook() {
  Codebook cb;
  cb.id = "normbase-starter";
  cb.version = 1;
  cb.categories = {
      {"cooperation",
       "Cooperation",
       "",
       {{"general-cooperation", "General cooperation", "", ""},
        {"information-sharing", "Information sharing", "", ""}}},
      {"restraint", "Restraint", "", {{"no-harm-to-csirts", "No harm to CSIRTs", "", ""}}},
  };
  cb.agreement_kinds = {{"multilateral", "Multilateral"},
                        {"regional", "Regional"},
                        {"multistakeholder", "Multistakeholder"}};
  cb.stakeholder_groups = {{"government", "Government"},
                           {"private-sector", "Private sector"},
                           {"civil-society", "Civil society"}};
  cb.Index();
  return cb;
}

Agreement Valid() {
  Agreement a;
  a.id = "paris-call-2018";
  a.title = "Paris Call for Trust and Security in Cyberspace";
  a.year = 2018;
  a.date = "2018-11-12";
  a.kind = "multistakeholder";
  a.leading_stakeholders = {"government", "private-sector"};
  a.source_url = "https://pariscall.international/en/";
  a.metadata_sources = {"https://example.org/a", "http://example.org/b"};
  a.codings["general-cooperation"] =
      Coding{{Evidence{"We will cooperate", "principle 9", "https://pariscall.international/en/"}},
             "clear"};
  return a;
}

class ValidateAgreementTest : public ::testing::Test {
 protected:
  // The status of validating `a`; expects a failure whose message starts with `prefix`.
  void ExpectRefused(const Agreement& a, const std::string& prefix,
                     const AgreementLimits& limits = {}) {
    Status s = ValidateAgreement(a, cb_, limits);
    ASSERT_TRUE(s.IsInvalidArgument()) << "accepted: " << s.ToString();
    EXPECT_EQ(s.message().rfind(prefix, 0), 0u)
        << "message '" << s.message() << "' does not start with '" << prefix << "'";
  }
  Codebook cb_ = TestCodebook();
};

TEST_F(ValidateAgreementTest, AcceptsAValidAgreement) {
  EXPECT_TRUE(ValidateAgreement(Valid(), cb_).ok());
  Agreement minimal;
  minimal.id = "ab";
  minimal.title = "T";
  minimal.kind = "regional";
  EXPECT_TRUE(ValidateAgreement(minimal, cb_).ok()) << ValidateAgreement(minimal, cb_).ToString();
}

TEST_F(ValidateAgreementTest, Slug) {
  for (const char* bad :
       {"", "a", "-ab", "ab-", "Paris-call", "paris_call", "paris call", "caf\xC3\xA9"}) {
    Agreement a = Valid();
    a.id = bad;
    ExpectRefused(a, "id: '" + std::string(bad) + "' is not a slug");
  }
  Agreement a = Valid();
  a.id = std::string(81, 'a');
  ExpectRefused(a, "id:");
  a.id = std::string(80, 'a');
  EXPECT_TRUE(ValidateAgreement(a, cb_).ok());
  a.id = "a-1";
  EXPECT_TRUE(ValidateAgreement(a, cb_).ok());
}

TEST_F(ValidateAgreementTest, TitleIsRequired) {
  Agreement a = Valid();
  a.title.clear();
  ExpectRefused(a, "title: is required");
}

TEST_F(ValidateAgreementTest, YearRange) {
  Agreement a = Valid();
  a.date.reset();
  for (int bad : {1899, 2101, -5, 0}) {
    a.year = bad;
    ExpectRefused(a, "year: " + std::to_string(bad) + " is outside 1900-2100");
  }
  for (int good : {1900, 2100}) {
    a.year = good;
    EXPECT_TRUE(ValidateAgreement(a, cb_).ok()) << good;
  }
  a.year.reset();
  EXPECT_TRUE(ValidateAgreement(a, cb_).ok());
}

TEST_F(ValidateAgreementTest, DateFormatAndCalendar) {
  for (const char* bad :
       {"2018/11/12", "2018-1-12", "2018-13-01", "2018-00-10", "2018-11-00", "2018-11-32",
        "2018-02-30", "2018-04-31", "2019-02-29", "20181112", "2018-11-12T00:00"}) {
    Agreement a = Valid();
    a.date = bad;
    ExpectRefused(a, "date: '" + std::string(bad) + "' is not YYYY-MM-DD");
  }
  Agreement leap = Valid();
  leap.year = 2020;
  leap.date = "2020-02-29";
  EXPECT_TRUE(ValidateAgreement(leap, cb_).ok());
  leap.year = 2000;
  leap.date = "2000-02-29";  // divisible by 400: a leap year
  EXPECT_TRUE(ValidateAgreement(leap, cb_).ok());
  leap.year = 1900;
  leap.date = "1900-02-29";  // divisible by 100 only: not a leap year
  ExpectRefused(leap, "date:");
}

TEST_F(ValidateAgreementTest, DateNeedsAMatchingYear) {
  Agreement a = Valid();
  a.year.reset();
  ExpectRefused(a, "date: a date needs a year");
  a.year = 2019;
  ExpectRefused(a, "date: '2018-11-12' does not agree with year 2019");
}

TEST_F(ValidateAgreementTest, UnknownKind) {
  Agreement a = Valid();
  a.kind = "treaty";
  ExpectRefused(a, "kind: 'treaty' is not an agreement kind of the codebook");
  a.kind.clear();
  ExpectRefused(a, "kind:");
}

TEST_F(ValidateAgreementTest, UnknownStakeholderGroup) {
  Agreement a = Valid();
  a.leading_stakeholders = {"government", "aliens"};
  ExpectRefused(a, "leading_stakeholders[1]: 'aliens' is not a stakeholder group");
}

TEST_F(ValidateAgreementTest, UnknownElement) {
  Agreement a = Valid();
  a.codings["foo"] = Coding{};
  ExpectRefused(a, "codings.foo: unknown element 'foo' (not in codebook normbase-starter v1)");
}

TEST_F(ValidateAgreementTest, CodingWithoutEvidenceIsAllowed) {
  Agreement a = Valid();
  a.codings["information-sharing"] = Coding{{}, "imported from CSV without evidence"};
  EXPECT_TRUE(ValidateAgreement(a, cb_).ok());
}

TEST_F(ValidateAgreementTest, EmptyQuote) {
  Agreement a = Valid();
  a.codings["general-cooperation"].evidence.push_back(Evidence{"", "p. 3", ""});
  ExpectRefused(a, "codings.general-cooperation.evidence[1].quote: is required");
}

TEST_F(ValidateAgreementTest, BadUrls) {
  for (const char* bad : {"ftp://example.org", "example.org", "http://", "https:///path",
                          "https://exa mple.org", "javascript:alert(1)", "https://a\x7f"}) {
    Agreement a = Valid();
    a.source_url = bad;
    ExpectRefused(a, "source_url: '" + std::string(bad) + "' is not an http(s) URL");
  }
  Agreement a = Valid();
  a.metadata_sources.push_back("not a url");
  ExpectRefused(a, "metadata_sources[2]:");
  a = Valid();
  a.codings["general-cooperation"].evidence[0].source_url = "mailto:x@example.org";
  ExpectRefused(a, "codings.general-cooperation.evidence[0].source_url:");
  a = Valid();
  a.source_url.clear();  // optional
  EXPECT_TRUE(ValidateAgreement(a, cb_).ok());
}

TEST_F(ValidateAgreementTest, BpfStatus) {
  Agreement a = Valid();
  a.bpf_inclusion.status = "maybe";
  ExpectRefused(a, "bpf_inclusion.status:");
  a.bpf_inclusion.status = "confirmed";
  EXPECT_TRUE(ValidateAgreement(a, cb_).ok());
}

TEST_F(ValidateAgreementTest, Limits) {
  AgreementLimits lim;
  lim.max_title = 10;
  lim.max_text = 20;
  lim.max_quote = 5;
  lim.max_evidence_per_element = 2;
  lim.max_urls = 2;

  Agreement a = Valid();
  a.title = std::string(11, 't');
  ExpectRefused(a, "title: longer than 10 bytes", lim);
  a.title = std::string(10, 't');
  a.codings["general-cooperation"].evidence[0].quote = "12345";
  a.codings["general-cooperation"].evidence[0].locator = "p. 9";  // locators share max_title
  EXPECT_TRUE(ValidateAgreement(a, cb_, lim).ok()) << ValidateAgreement(a, cb_, lim).ToString();

  Agreement b = a;
  b.parties = std::string(21, 'p');
  ExpectRefused(b, "parties: longer than 20 bytes", lim);
  b = a;
  b.notes = std::string(21, 'n');
  ExpectRefused(b, "notes:", lim);
  b = a;
  b.coding_status = std::string(21, 'c');
  ExpectRefused(b, "coding_status:", lim);
  b = a;
  b.codings["general-cooperation"].note = std::string(21, 'n');
  ExpectRefused(b, "codings.general-cooperation.note:", lim);
  b = a;
  b.codings["general-cooperation"].evidence[0].quote = "123456";
  ExpectRefused(b, "codings.general-cooperation.evidence[0].quote: longer than 5 bytes", lim);
  b = a;
  b.codings["general-cooperation"].evidence.resize(3, Evidence{"q", "", ""});
  ExpectRefused(b, "codings.general-cooperation.evidence: more than 2 quotes", lim);
  b = a;
  b.codings["general-cooperation"].evidence[0].locator = std::string(11, 'l');
  ExpectRefused(b, "codings.general-cooperation.evidence[0].locator: longer than 10 bytes", lim);
  b = a;
  b.metadata_sources.push_back("https://example.org/c");
  ExpectRefused(b, "metadata_sources: more than 2 entries", lim);
}

TEST(AgreementTest, IsWellFormedUrl) {
  EXPECT_TRUE(IsWellFormedUrl("https://example.org"));
  EXPECT_TRUE(IsWellFormedUrl("http://example.org/a?b=c#d"));
  EXPECT_FALSE(IsWellFormedUrl(""));
  EXPECT_FALSE(IsWellFormedUrl("https://example.org/\n"));
  EXPECT_FALSE(IsWellFormedUrl("https://" + std::string(2000, 'a')));
}

TEST(AgreementTest, IsValidIsoDate) {
  EXPECT_TRUE(IsValidIsoDate("2015-07-22"));
  EXPECT_TRUE(IsValidIsoDate("2024-12-31"));
  EXPECT_FALSE(IsValidIsoDate("2015-06-31"));
  EXPECT_FALSE(IsValidIsoDate("2015-07-2a"));
  EXPECT_FALSE(IsValidIsoDate(""));
}

TEST(AgreementTest, NormalizeTitle) {
  EXPECT_EQ(NormalizeTitle("The Paris Call!"), "the paris call");
  EXPECT_EQ(NormalizeTitle("  Tallinn   Manual 2.0 "), "tallinn manual 2 0");
  EXPECT_EQ(NormalizeTitle("Caf\xC3\xA9 Accord"), "caf\xC3\xA9 accord");
  EXPECT_EQ(NormalizeTitle("!!!"), "");
}

TEST(AgreementTest, SameContentIgnoresBookkeeping) {
  Agreement a = Valid(), b = Valid();
  b.revision = 7;
  b.retired = true;
  EXPECT_TRUE(a.SameContent(b));
  b.codings["general-cooperation"].note = "changed";
  EXPECT_FALSE(a.SameContent(b));
  b = Valid();
  b.bpf_inclusion.years = {2020};
  EXPECT_FALSE(a.SameContent(b));
}

TEST(AgreementTest, IsCodedMeansHasCodings) {
  Agreement a = Valid();
  EXPECT_TRUE(a.IsCoded());
  a.codings.clear();
  EXPECT_FALSE(a.IsCoded());
}

}  // namespace
}  // namespace normbase::domain
