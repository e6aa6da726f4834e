#include "domain/csv.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace normbase::domain {
namespace {

using Rows = std::vector<std::vector<std::string>>;

// A slice of the starter codebook: enough elements to have several columns.
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
  cb.agreement_kinds = {{"multilateral", "Multilateral"}, {"multistakeholder", "Multistakeholder"}};
  cb.stakeholder_groups = {{"government", "Government"},
                           {"private-sector", "Private sector"},
                           {"civil-society", "Civil society"}};
  cb.Index();
  return cb;
}

Agreement ParisCall() {
  Agreement a;
  a.id = "paris-call-2018";
  a.title = "Paris Call for Trust and Security in Cyberspace";
  a.year = 2018;
  a.date = "2018-11-12";
  a.kind = "multistakeholder";
  a.leading_stakeholders = {"government", "private-sector"};
  a.parties = "1200+ supporters";
  a.source_url = "https://pariscall.international/en/";
  a.bpf_inclusion.status = "confirmed";
  a.codings["general-cooperation"] =
      Coding{{Evidence{"cooperate", "principle 9", "https://pariscall.international/en/"}}, ""};
  a.codings["no-harm-to-csirts"] = Coding{};
  return a;
}

const char* const kHeader =
    "id,title,year,date,kind,leading_stakeholders,parties,source_url,bpf_inclusion,coded,"
    "general-cooperation,information-sharing,no-harm-to-csirts\r\n";

Rows Parse(std::string_view text) {
  auto r = ParseCsv(text);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? r.value() : Rows{};
}

void ExpectInvalid(const Status& s, const std::string& needle) {
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(s.message().find(needle), std::string::npos)
      << "message '" << s.message() << "' lacks '" << needle << "'";
}

// ---- CsvRow ---------------------------------------------------------------

TEST(CsvRowTest, PlainFieldsAreWrittenAsTheyAre) {
  EXPECT_EQ(CsvRow({"a", "b c", ""}), "a,b c,\r\n");
  EXPECT_EQ(CsvRow({}), "\r\n");
}

TEST(CsvRowTest, QuotesFieldsWithSpecialCharacters) {
  EXPECT_EQ(CsvRow({"a,b"}), "\"a,b\"\r\n");
  EXPECT_EQ(CsvRow({"say \"hi\""}), "\"say \"\"hi\"\"\"\r\n");
  EXPECT_EQ(CsvRow({"two\nlines"}), "\"two\nlines\"\r\n");
  EXPECT_EQ(CsvRow({"cr\rhere", "x"}), "\"cr\rhere\",x\r\n");
}

// ---- ParseCsv -------------------------------------------------------------

TEST(ParseCsvTest, AcceptsLfCrlfAndNoFinalLineEnd) {
  EXPECT_EQ(Parse("a,b\nc,d\n"), (Rows{{"a", "b"}, {"c", "d"}}));
  EXPECT_EQ(Parse("a,b\r\nc,d\r\n"), (Rows{{"a", "b"}, {"c", "d"}}));
  EXPECT_EQ(Parse("a,b\r\nc,d"), (Rows{{"a", "b"}, {"c", "d"}}));
}

TEST(ParseCsvTest, EmptyTextEmptyLinesAndEmptyFields) {
  EXPECT_EQ(Parse(""), Rows{});
  EXPECT_EQ(Parse("\n"), (Rows{{""}}));
  EXPECT_EQ(Parse("a\n\nb\n"), (Rows{{"a"}, {""}, {"b"}}));
  EXPECT_EQ(Parse(",\n"), (Rows{{"", ""}}));
  EXPECT_EQ(Parse("a,"), (Rows{{"a", ""}}));
  EXPECT_EQ(Parse("\"\",x"), (Rows{{"", "x"}}));
}

TEST(ParseCsvTest, QuotedFieldsKeepNewlinesCommasAndQuotes) {
  EXPECT_EQ(Parse("\"a\nb\",\"c,d\",\"e \"\"f\"\"\"\r\nz\r\n"),
            (Rows{{"a\nb", "c,d", "e \"f\""}, {"z"}}));
  EXPECT_EQ(Parse("\"crlf\r\ninside\"\n"), (Rows{{"crlf\r\ninside"}}));
}

TEST(ParseCsvTest, DropsTheUtf8Bom) {
  EXPECT_EQ(Parse("\xEF\xBB\xBFid,title\n"), (Rows{{"id", "title"}}));
  EXPECT_EQ(Parse("\xEF\xBB\xBF"), Rows{});
  // Only a leading BOM is special; anywhere else it is data.
  EXPECT_EQ(Parse("a,\xEF\xBB\xBF\n"), (Rows{{"a", "\xEF\xBB\xBF"}}));
}

TEST(ParseCsvTest, RoundTripsCsvRow) {
  const Rows rows = {{"plain", "with,comma", "with \"quotes\"", ""},
                     {"multi\nline", "crlf\r\nline", "\"", ",,"},
                     {"", "", "", "trailing space "}};
  std::string text;
  for (const auto& r : rows) text += CsvRow(r);
  EXPECT_EQ(Parse(text), rows);
  EXPECT_EQ(Parse("\xEF\xBB\xBF" + text), rows);
}

TEST(ParseCsvTest, UnterminatedQuoteNamesTheLineItOpenedOn) {
  auto r = ParseCsv("a,b\nc,\"never\nclosed\n");
  ASSERT_FALSE(r.ok());
  ExpectInvalid(r.status(), "line 2:");
  ExpectInvalid(r.status(), "never closed");
}

TEST(ParseCsvTest, StrayQuoteInUnquotedField) {
  auto r = ParseCsv("a,b\nc,d\"e\n");
  ASSERT_FALSE(r.ok());
  ExpectInvalid(r.status(), "line 2:");
  ExpectInvalid(r.status(), "quote inside an unquoted field");
}

TEST(ParseCsvTest, LineNumbersCountNewlinesInsideQuotedFields) {
  auto r = ParseCsv("\"one\ntwo\",x\nbad\"field\n");
  ASSERT_FALSE(r.ok());
  ExpectInvalid(r.status(), "line 3:");
}

TEST(ParseCsvTest, CharacterAfterClosingQuote) {
  auto r = ParseCsv("ok\n\"abc\"def,x\n");
  ASSERT_FALSE(r.ok());
  ExpectInvalid(r.status(), "line 2:");
  ExpectInvalid(r.status(), "after a closing quote");
}

TEST(ParseCsvTest, BareCarriageReturnIsRefused) {
  auto r = ParseCsv("a\rb\n");
  ASSERT_FALSE(r.ok());
  ExpectInvalid(r.status(), "line 1:");
  ExpectInvalid(r.status(), "CR");
}

TEST(ParseCsvTest, MaxRows) {
  EXPECT_TRUE(ParseCsv("a\nb\n", 2).ok());
  auto r = ParseCsv("a\nb\nc\n", 2);
  ASSERT_FALSE(r.ok());
  ExpectInvalid(r.status(), "line 3: more than 2 rows");
}

// ---- ExportAgreementsCsv ----------------------------------------------------

TEST(ExportAgreementsCsvTest, HeaderAndRowLayout) {
  const Codebook cb = TestCodebook();
  Agreement bare;
  bare.id = "bare-2020";
  bare.title = "Bare";
  bare.kind = "multilateral";
  const std::string csv = ExportAgreementsCsv({ParisCall(), bare}, cb);
  EXPECT_EQ(csv, std::string(kHeader) +
                     "paris-call-2018,Paris Call for Trust and Security in Cyberspace,2018,"
                     "2018-11-12,multistakeholder,government;private-sector,1200+ supporters,"
                     "https://pariscall.international/en/,confirmed,1,1,0,1\r\n"
                     "bare-2020,Bare,,,multilateral,,,,unverified,0,0,0,0\r\n");
}

TEST(ExportAgreementsCsvTest, NoAgreementsGivesOnlyTheHeader) {
  EXPECT_EQ(ExportAgreementsCsv({}, TestCodebook()), kHeader);
}

TEST(ExportAgreementsCsvTest, CodingsOfUnknownElementsHaveNoColumn) {
  Agreement a = ParisCall();
  a.codings.clear();
  a.codings["not-in-codebook"] = Coding{};
  auto rows = Parse(ExportAgreementsCsv({a}, TestCodebook()));
  ASSERT_EQ(rows.size(), 2u);
  ASSERT_EQ(rows[1].size(), 13u);
  EXPECT_EQ(rows[1][9], "1");  // coded: it has a coding, just not one with a column
  EXPECT_EQ(rows[1][10], "0");
  EXPECT_EQ(rows[1][11], "0");
  EXPECT_EQ(rows[1][12], "0");
}

// ---- AgreementsFromCsv ------------------------------------------------------

TEST(AgreementsFromCsvTest, RoundTripsTheExport) {
  const Codebook cb = TestCodebook();
  Agreement tricky = ParisCall();
  tricky.id = "tricky";
  tricky.title = "A \"quoted\", comma'd\r\nand multi-line title";
  tricky.parties = "France,\nMicrosoft";
  tricky.year.reset();
  tricky.date.reset();
  tricky.bpf_inclusion.status = "unverified";
  auto back = AgreementsFromCsv(ExportAgreementsCsv({ParisCall(), tricky}, cb), cb);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ASSERT_EQ(back->size(), 2u);

  for (size_t i = 0; i < 2; ++i) {
    const Agreement& want = i == 0 ? ParisCall() : tricky;
    const Agreement& got = (*back)[i];
    EXPECT_EQ(got.id, want.id);
    EXPECT_EQ(got.title, want.title);
    EXPECT_EQ(got.year, want.year);
    EXPECT_EQ(got.date, want.date);
    EXPECT_EQ(got.kind, want.kind);
    EXPECT_EQ(got.leading_stakeholders, want.leading_stakeholders);
    EXPECT_EQ(got.parties, want.parties);
    EXPECT_EQ(got.source_url, want.source_url);
    EXPECT_EQ(got.bpf_inclusion.status, want.bpf_inclusion.status);
    ASSERT_EQ(got.codings.size(), 2u);
    for (const char* e : {"general-cooperation", "no-harm-to-csirts"}) {
      ASSERT_TRUE(got.codings.count(e)) << e;
      EXPECT_TRUE(got.codings.at(e).evidence.empty());
      EXPECT_EQ(got.codings.at(e).note, "imported from CSV without evidence");
    }
  }
}

TEST(AgreementsFromCsvTest, ColumnsInAnyOrderAndOptional) {
  const Codebook cb = TestCodebook();
  auto r = AgreementsFromCsv(
      "\xEF\xBB\xBFkind, no-harm-to-csirts ,title,id,year,leading_stakeholders\n"
      "regional,1,Some title,some-id, 2015 , government ; ;civil-society \n"
      "\n"
      "multilateral,,Other,other-id,,\n\n",
      cb);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 2u);
  const Agreement& a = (*r)[0];
  EXPECT_EQ(a.id, "some-id");
  EXPECT_EQ(a.title, "Some title");
  EXPECT_EQ(a.kind, "regional");
  EXPECT_EQ(a.year, 2015);
  EXPECT_FALSE(a.date.has_value());
  EXPECT_EQ(a.leading_stakeholders, (std::vector<std::string>{"government", "civil-society"}));
  EXPECT_EQ(a.bpf_inclusion.status, "unverified");
  ASSERT_EQ(a.codings.size(), 1u);
  EXPECT_TRUE(a.codings.count("no-harm-to-csirts"));
  const Agreement& b = (*r)[1];
  EXPECT_EQ(b.id, "other-id");
  EXPECT_FALSE(b.year.has_value());
  EXPECT_TRUE(b.leading_stakeholders.empty());
  EXPECT_FALSE(b.IsCoded());
}

TEST(AgreementsFromCsvTest, DoesNotValidateAgainstTheCodebook) {
  // Bad slug, unknown kind and group, year out of range: the caller validates.
  auto r = AgreementsFromCsv(
      "id,title,kind,year,leading_stakeholders\nNot A Slug,,treaty,1066,"
      "aliens\n",
      TestCodebook());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].id, "Not A Slug");
  EXPECT_EQ((*r)[0].kind, "treaty");
  EXPECT_EQ((*r)[0].year, 1066);
}

TEST(AgreementsFromCsvTest, HeaderOnlyGivesNoAgreements) {
  auto r = AgreementsFromCsv("id,title,kind\r\n", TestCodebook());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->empty());
}

TEST(AgreementsFromCsvTest, UnknownColumn) {
  auto r = AgreementsFromCsv("id,title,kind,foo\na,b,c,d\n", TestCodebook());
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsInvalidArgument());
  EXPECT_EQ(r.status().message(),
            "column 'foo' is neither an agreement field nor an element of codebook "
            "normbase-starter v1");
}

TEST(AgreementsFromCsvTest, HeaderProblems) {
  const Codebook cb = TestCodebook();
  auto missing = AgreementsFromCsv("id,title,year\n", cb);
  ASSERT_FALSE(missing.ok());
  ExpectInvalid(missing.status(), "'kind'");
  auto twice = AgreementsFromCsv("id,title,kind,title\n", cb);
  ASSERT_FALSE(twice.ok());
  ExpectInvalid(twice.status(), "column 'title' appears twice");
  auto unnamed = AgreementsFromCsv("id,title,kind,\n", cb);
  ASSERT_FALSE(unnamed.ok());
  ExpectInvalid(unnamed.status(), "column 4 has no name");
  auto empty = AgreementsFromCsv("", cb);
  ASSERT_FALSE(empty.ok());
  ExpectInvalid(empty.status(), "empty");
  auto blank = AgreementsFromCsv("\r\n\r\n", cb);
  ASSERT_FALSE(blank.ok());
  ExpectInvalid(blank.status(), "empty");
}

TEST(AgreementsFromCsvTest, RowWithWrongNumberOfFields) {
  auto r = AgreementsFromCsv("id,title,kind\na,b,c\nd,e\n", TestCodebook());
  ASSERT_FALSE(r.ok());
  ExpectInvalid(r.status(), "row 3:");
  ExpectInvalid(r.status(), "has 2 fields but the header has 3");
  auto more = AgreementsFromCsv("id,title,kind\na,b,c,d\n", TestCodebook());
  ASSERT_FALSE(more.ok());
  ExpectInvalid(more.status(), "row 2:");
}

TEST(AgreementsFromCsvTest, ElementCellMustBeZeroOneOrEmpty) {
  const Codebook cb = TestCodebook();
  for (const char* cell : {"yes", "2", "x", "true", "01"}) {
    auto r = AgreementsFromCsv(
        std::string("id,title,kind,information-sharing\na,b,c,1\nd,e,f,") + cell + "\n", cb);
    ASSERT_FALSE(r.ok()) << cell;
    ExpectInvalid(r.status(), "row 3, column 'information-sharing'");
    ExpectInvalid(r.status(), std::string("'") + cell + "'");
  }
  auto zero = AgreementsFromCsv("id,title,kind,information-sharing\na,b,c,0\n", cb);
  ASSERT_TRUE(zero.ok()) << zero.status().ToString();
  EXPECT_FALSE((*zero)[0].IsCoded());
}

TEST(AgreementsFromCsvTest, LongCellsAreCutShortInMessages) {
  // 59 ASCII bytes then a 2-byte character straddling the 60-byte cut.
  const std::string cell = std::string(59, 'x') + "\xC3\xA9" + std::string(1000, 'y');
  auto r = AgreementsFromCsv("id,title,kind,year\na,b,c," + cell + "\n", TestCodebook());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "row 2, column 'year': '" + std::string(59, 'x') + "...' is not an integer year");
}

TEST(AgreementsFromCsvTest, YearMustBeAnInteger) {
  const Codebook cb = TestCodebook();
  for (const char* year : {"2018a", "twenty", "2018.0", "99999999999"}) {
    auto r = AgreementsFromCsv(std::string("id,title,kind,year\na,b,c,") + year + "\n", cb);
    ASSERT_FALSE(r.ok()) << year;
    ExpectInvalid(r.status(), "row 2, column 'year'");
  }
}

TEST(AgreementsFromCsvTest, CodedIsCheckedButCodingsDecide) {
  const Codebook cb = TestCodebook();
  auto bad = AgreementsFromCsv("id,title,kind,coded\na,b,c,maybe\n", cb);
  ASSERT_FALSE(bad.ok());
  ExpectInvalid(bad.status(), "row 2, column 'coded'");
  auto ignored = AgreementsFromCsv("id,title,kind,coded\na,b,c,1\n", cb);
  ASSERT_TRUE(ignored.ok()) << ignored.status().ToString();
  EXPECT_FALSE((*ignored)[0].IsCoded());
}

TEST(AgreementsFromCsvTest, ParseErrorsPassThrough) {
  auto r = AgreementsFromCsv("id,title,kind\na,\"b,c\n", TestCodebook());
  ASSERT_FALSE(r.ok());
  ExpectInvalid(r.status(), "line 2:");
}

// ---- Spreadsheet formulas (CSV injection) ------------------------------------

TEST(SpreadsheetFormulaTest, FormulaLikeTextIsExportedWithAnApostropheAndImportsBack) {
  const Codebook cb = TestCodebook();
  std::vector<Agreement> agreements;
  for (const char* title : {"=HYPERLINK(\"http://evil.example\",\"click\")", "+1", "-2", "@SUM(A1)",
                            "'=already quoted", "'plain apostrophe", "a = b"}) {
    Agreement a = ParisCall();
    a.id = "a" + std::to_string(agreements.size());
    a.title = title;
    a.parties = std::string(title) + " parties";
    agreements.push_back(a);
  }
  const std::string csv = ExportAgreementsCsv(agreements, cb);
  const Rows rows = Parse(csv);
  ASSERT_EQ(rows.size(), agreements.size() + 1);
  // As a spreadsheet gets them: one more apostrophe before formula-like text.
  const std::vector<std::string> shown = {"'=HYPERLINK(\"http://evil.example\",\"click\")",
                                          "'+1",
                                          "'-2",
                                          "'@SUM(A1)",
                                          "''=already quoted",
                                          "'plain apostrophe",
                                          "a = b"};
  for (size_t i = 0; i < agreements.size(); ++i) {
    EXPECT_EQ(rows[i + 1][1], shown[i]) << "title of " << agreements[i].title;
    EXPECT_EQ(rows[i + 1][6], shown[i] + " parties") << "parties of " << agreements[i].title;
  }

  auto back = AgreementsFromCsv(csv, cb);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ASSERT_EQ(back->size(), agreements.size());
  for (size_t i = 0; i < agreements.size(); ++i) {
    EXPECT_EQ((*back)[i].title, agreements[i].title);
    EXPECT_EQ((*back)[i].parties, agreements[i].parties);
  }
}

TEST(SpreadsheetFormulaTest, OnlyFreeTextColumnsLoseTheApostropheOnImport) {
  // What a spreadsheet writes back: the apostrophe of a formula-like title
  // goes, an apostrophe before ordinary text stays, other columns are verbatim.
  auto r = AgreementsFromCsv(
      "id,title,kind,parties,source_url\n"
      "a,'=1+1,multilateral,'-x,'=not-a-free-text-column\n"
      "b,'ordinary,multilateral,',\n",
      TestCodebook());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].title, "=1+1");
  EXPECT_EQ((*r)[0].parties, "-x");
  EXPECT_EQ((*r)[0].source_url, "'=not-a-free-text-column");
  EXPECT_EQ((*r)[1].title, "'ordinary");
  EXPECT_EQ((*r)[1].parties, "'");
}

}  // namespace
}  // namespace normbase::domain
