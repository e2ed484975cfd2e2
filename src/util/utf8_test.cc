#include "util/utf8.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>

#include "util/json.h"

namespace tb {
namespace {

TEST(Utf8, ValidTextIsKeptAsIs) {
  for (std::string s : {std::string(), std::string("plain ascii\t\n"), std::string("caf\xc3\xa9"),
                        std::string("\xe2\x82\xac 100"), std::string("\xf0\x9f\x90\xb8 frog"),
                        std::string("\xf4\x8f\xbf\xbf"), std::string("nul\0inside", 10)}) {
    EXPECT_TRUE(IsValidUtf8(s)) << s;
    EXPECT_EQ(EscapeInvalidUtf8(s), s);
  }
}

TEST(Utf8, InvalidBytesBecomeTarStyleOctal) {
  struct Case {
    std::string in, out;
  } cases[] = {
      {"caf\xe9", "caf\\351"},                                   // Latin-1
      {"\xff\xfe", "\\377\\376"},                                // never valid
      {"\xc0\xaf", "\\300\\257"},                                // overlong '/'
      {"\xe0\x80\xaf", "\\340\\200\\257"},                       // overlong, 3 bytes
      {"\xed\xa0\x80", "\\355\\240\\200"},                       // a UTF-16 surrogate
      {"\xf4\x90\x80\x80", "\\364\\220\\200\\200"},              // above U+10FFFF
      {"ab\xe2\x82", "ab\\342\\202"},                            // cut short at the end
      {"\xe2\x82" "x\xc3\xa9", "\\342\\202x\xc3\xa9"},           // cut short, then valid text
      {"\x80" "a", "\\200a"},                                    // a lone continuation byte
  };
  for (const Case& c : cases) {
    EXPECT_FALSE(IsValidUtf8(c.in)) << c.out;
    std::string got = EscapeInvalidUtf8(c.in);
    EXPECT_EQ(got, c.out);
    EXPECT_TRUE(IsValidUtf8(got)) << got;
  }
}

// nlohmann::json's writer is an independent judge of validity: it refuses exactly the strings
// IsValidUtf8 rejects, and JsonText writes every one of them, parseable.
TEST(Utf8, AgreesWithTheJsonWriterOnRandomBytes) {
  std::mt19937 rng(7);
  const uint8_t interesting[] = {0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2,
                                 0xdf, 0xe0, 0xe1, 0xec, 0xed, 0xee, 0xef, 0xf0, 0xf1, 0xf3, 0xf4, 0xf5, 0xff};
  for (int round = 0; round < 20000; ++round) {
    std::string s(rng() % 6, '\0');
    for (char& c : s) c = static_cast<char>(interesting[rng() % sizeof interesting]);
    bool writer_accepts = true;
    try {
      (void)nlohmann::json(s).dump();
    } catch (const nlohmann::json::type_error&) {
      writer_accepts = false;
    }
    ASSERT_EQ(IsValidUtf8(s), writer_accepts) << ::testing::PrintToString(s);
    std::string text = JsonText(nlohmann::json{{s, s}});
    auto back = nlohmann::json::parse(text);
    std::string escaped = EscapeInvalidUtf8(s);
    ASSERT_EQ(back.at(escaped).get<std::string>(), escaped);
  }
}

TEST(JsonText, EscapesKeysAndValuesAtAnyDepthAndKeepsTheRest) {
  nlohmann::ordered_json j;
  j["label"] = "run-\xff";
  j["nested"] = {{"paths", {"ok", "dir\xe9/f"}}, {"n", 3}, {"x", 1.5}, {"flag", true}, {"none", nullptr}};
  j["key\xfe"] = "v";
  for (int indent : {-1, 2}) {
    std::string text = JsonText(j, indent);
    auto back = nlohmann::ordered_json::parse(text);
    EXPECT_EQ(back["label"], "run-\\377");
    EXPECT_EQ(back["nested"]["paths"][0], "ok");
    EXPECT_EQ(back["nested"]["paths"][1], "dir\\351/f");
    EXPECT_EQ(back["nested"]["n"], 3);
    EXPECT_EQ(back["nested"]["x"], 1.5);
    EXPECT_EQ(back["nested"]["flag"], true);
    EXPECT_TRUE(back["nested"]["none"].is_null());
    EXPECT_EQ(back["key\\376"], "v");
    EXPECT_EQ(back.begin().key(), "label");  // order kept
  }
  // Valid documents are written exactly as dump() writes them.
  nlohmann::json plain = {{"a", "caf\xc3\xa9"}, {"b", {1, 2}}};
  EXPECT_EQ(JsonText(plain), plain.dump());
  EXPECT_EQ(JsonText(plain, 2), plain.dump(2));
}

}  // namespace
}  // namespace tb
