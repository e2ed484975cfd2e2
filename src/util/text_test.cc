#include "util/text.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace tb {
namespace {

TEST(ShownName, ShortNamesAreUnchanged) {
  EXPECT_EQ(ShownName("cifar-10-batches-py/data_batch_1"), "cifar-10-batches-py/data_batch_1");
  std::string exact(kShownNameBytes, 'a');
  EXPECT_EQ(ShownName(exact), exact);
}

TEST(ShownName, LongNamesAreCutAndGiveTheirLength) {
  std::string huge(10u << 20, 'x');
  std::string shown = ShownName(huge);
  EXPECT_EQ(shown, std::string(kShownNameBytes, 'x') + "...(10485760 bytes)");
  EXPECT_EQ(ShownName("abcdefgh", 3), "abc...(8 bytes)");
}

TEST(ShownName, NeverSplitsAUtf8Sequence) {
  // "é" is 2 bytes (C3 A9): a cut after 3 bytes would leave a lone lead byte.
  std::string name = "ab\xC3\xA9" "cdef";
  EXPECT_EQ(ShownName(name, 3), "ab...(8 bytes)");
  EXPECT_EQ(ShownName(name, 4), "ab\xC3\xA9...(8 bytes)");
  // 4-byte sequence (U+1F600) cut anywhere inside it.
  std::string emoji = "\xF0\x9F\x98\x80" "tail";
  for (size_t keep = 1; keep < 4; ++keep) EXPECT_EQ(ShownName(emoji, keep), "...(8 bytes)") << keep;
}

// The shapes of /proc/self/io ("key: value") and /proc/cpuinfo ("key\t: value", blank lines).
TEST(ForEachKeyValueLine, TrimsKeysAndValuesSkipsLinesWithoutColonAndStops) {
  std::vector<std::pair<std::string, std::string>> seen;
  ForEachKeyValueLine("rchar: 12\nno colon here\n\nmodel name\t: Intel(R) Xeon(R): v2 \r\nlast:", [&](auto k, auto v) {
    seen.emplace_back(k, v);
    return true;
  });
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0], (std::pair<std::string, std::string>{"rchar", "12"}));
  EXPECT_EQ(seen[1], (std::pair<std::string, std::string>{"model name", "Intel(R) Xeon(R): v2"}));
  EXPECT_EQ(seen[2], (std::pair<std::string, std::string>{"last", ""}));
  int calls = 0;
  ForEachKeyValueLine("a: 1\nb: 2\nc: 3", [&](auto, auto) { return ++calls < 2; });
  EXPECT_EQ(calls, 2);
}

}  // namespace
}  // namespace tb
