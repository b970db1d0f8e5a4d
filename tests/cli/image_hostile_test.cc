// Hostile physical-memory images: cycles, tables reachable twice, truncated
// and tiny images, and many deterministic pseudo-random images over every
// registered format, through the code `ptsim dump` and `ptsim translate`
// run (tools/cli/image_probe.h). Each must end, quickly, as problems or an
// input error; the asan-ubsan preset runs the same under ASan.
#include <sys/resource.h>

#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tools/cli/image_loader.h"
#include "tools/cli/image_probe.h"

namespace ptsim::cli {
namespace {

constexpr uint64_t kBase = 0x100000;
constexpr uint64_t kPresentWrite = 0x3;  // x86 P | R/W
constexpr uint64_t kPageSize = 0x80;     // x86 PS

// An x86-64 4-level image of `pages` zeroed pages at kBase.
struct X86Image {
  std::vector<uint8_t> bytes;
  explicit X86Image(size_t pages) : bytes(pages * 4096, 0) {}
  void Set(size_t page, size_t index, uint64_t raw) {
    for (int b = 0; b < 8; ++b) bytes[page * 4096 + index * 8 + b] = static_cast<uint8_t>(raw >> (8 * b));
  }
  static uint64_t Page(size_t page) { return kBase + page * 4096; }
};

struct Walked {
  std::vector<LeafInfo> leaves;
  std::vector<std::string> problems;
};

Walked Walk(const std::vector<uint8_t>& bytes) {
  auto f = MakeFormat("x86_64_4level", {});
  EXPECT_TRUE(f.ok());
  absl::StatusOr<LoadedImage> img = LoadImageBytes(std::move(*f), kBase, kBase, bytes);
  EXPECT_TRUE(img.ok()) << img.status();
  Walked w;
  img->format->ForEachLeaf(
      img->mem.get(), img->root,
      [&](const LeafInfo& l) {
        w.leaves.push_back(l);
        return true;
      },
      [&](const TreeProblem& p) {
        w.problems.push_back(p.what);
        return true;
      });
  return w;
}

TEST(HostileImage, ATableThatPointsAtItselfIsOneCycleNotAMillionLeaves) {
  X86Image img(1);
  img.Set(0, 0, X86Image::Page(0) | kPresentWrite);
  const Walked w = Walk(img.bytes);
  EXPECT_TRUE(w.leaves.empty());
  ASSERT_EQ(w.problems.size(), 1u);
  EXPECT_NE(w.problems[0].find("structure error: cycle: table 0x100000 points back to itself through "
                               "0x100000[0] -> 0x100000"),
            std::string::npos)
      << w.problems[0];
}

TEST(HostileImage, ALongerCycleNamesEveryTableOnIt) {
  X86Image img(3);
  img.Set(0, 5, X86Image::Page(1) | kPresentWrite);
  img.Set(1, 7, X86Image::Page(2) | kPresentWrite);
  img.Set(2, 9, X86Image::Page(1) | kPresentWrite);  // back up to the PDPT
  const Walked w = Walk(img.bytes);
  ASSERT_EQ(w.problems.size(), 1u);
  EXPECT_NE(w.problems[0].find("cycle: table 0x101000 points back to itself through 0x101000[7] -> 0x102000[9] -> "
                               "0x101000 (path from the root: 0x100000[5] -> 0x101000[7] -> 0x102000[9] -> "
                               "0x101000)"),
            std::string::npos)
      << w.problems[0];
}

TEST(HostileImage, ATableReachableTwiceNamesBothPathsAndIsReadOnce) {
  X86Image img(2);
  img.Set(0, 0, X86Image::Page(1) | kPresentWrite);
  img.Set(0, 1, X86Image::Page(1) | kPresentWrite);
  img.Set(1, 0, 0x40000000 | kPageSize | kPresentWrite);  // a 1 GiB leaf
  const Walked w = Walk(img.bytes);
  ASSERT_EQ(w.leaves.size(), 1u);  // under the first path only
  EXPECT_EQ(w.leaves[0].va.value(), 0u);
  ASSERT_EQ(w.problems.size(), 1u);
  EXPECT_NE(w.problems[0].find("structure error: table 0x101000 is reachable twice: first 0x100000[0] -> 0x101000, "
                               "again 0x100000[1] -> 0x101000"),
            std::string::npos)
      << w.problems[0];
}

TEST(HostileImage, EveryEntryOfEveryTablePointingAtTheRootStaysLinear) {
  // PML4 -> PDPT -> PD -> PML4 with all 512 entries of each: without the
  // check, a walk of 512^3 paths that never ends.
  X86Image img(3);
  for (size_t p = 0; p < 3; ++p) {
    for (size_t i = 0; i < 512; ++i) img.Set(p, i, X86Image::Page((p + 1) % 3) | kPresentWrite);
  }
  const Walked w = Walk(img.bytes);
  EXPECT_TRUE(w.leaves.empty());
  EXPECT_EQ(w.problems.size(), 511u + 511u + 512u);
}

TEST(HostileImage, ATinyImageIsRefusedNamingItsSize) {
  std::vector<uint8_t> tiny(100, 0);
  auto f = MakeFormat("x86_64_4level", {});
  ASSERT_TRUE(f.ok());
  absl::StatusOr<LoadedImage> img = LoadImageBytes(std::move(*f), kBase, kBase, tiny);
  ASSERT_FALSE(img.ok());
  const std::string msg(img.status().message());
  EXPECT_NE(msg.find("truncated"), std::string::npos) << msg;
  EXPECT_NE(msg.find("100 bytes"), std::string::npos) << msg;
}

TEST(HostileImage, ATablePastTheEndOfATruncatedImageIsOutsideMemory) {
  // The PDPT pointer leads to bytes the file does not have (the image ends
  // 100 bytes into the page that would hold it).
  X86Image img(2);
  img.Set(0, 0, X86Image::Page(1) | kPresentWrite);
  img.bytes.resize(4096 + 100);
  const Walked w = Walk(img.bytes);
  ASSERT_EQ(w.problems.size(), 1u);
  EXPECT_NE(w.problems[0].find("lies outside memory"), std::string::npos) << w.problems[0];
}

// Random images of a few pages whose words are mostly zero, random, or
// pointers into the image in the two usual encodings (address bits from
// 12, or a page number from bit 10), so that walks go deep, loop, share
// tables and run off the end.
std::vector<uint8_t> RandomInput(std::mt19937_64& rng, uint8_t format) {
  std::vector<uint8_t> in(kProbeHeaderBytes);
  in[0] = format;
  for (size_t i = 1; i < kProbeHeaderBytes; ++i) in[i] = static_cast<uint8_t>(rng());
  in[1] = static_cast<uint8_t>(rng() % 8 == 0 ? 255 : rng() % 4);
  for (size_t i = 11; i < kProbeHeaderBytes; ++i) {
    if (rng() % 2) in[i] = i % 8 >= 5 ? 0 : in[i];  // mostly low addresses
  }
  const size_t pages = 1 + rng() % 6;
  const size_t bytes = pages * 4096 - (rng() % 4 == 0 ? rng() % 4096 : 0);
  const unsigned word = rng() % 2 ? 8 : 4;
  for (size_t at = 0; at + word <= bytes; at += word) {
    uint64_t v = 0;
    switch (rng() % 8) {
      case 0:
      case 1:
      case 2:
        break;
      case 3:
        v = rng();
        break;
      default: {
        const uint64_t target = kBase + (rng() % (pages + 1)) * 4096 + (rng() % 4 == 0 ? (rng() % 4) * 1024 : 0);
        v = rng() % 2 ? (target | (rng() & 0xfff)) : ((target >> 12) << 10 | (rng() & 0x3ff));
        if (rng() % 4 == 0) v |= rng() & 0xfff0000000000000;
      }
    }
    for (unsigned b = 0; b < word; ++b) in.push_back(static_cast<uint8_t>(v >> (8 * b)));
  }
  return in;
}

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAsan = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kAsan = true;
#else
constexpr bool kAsan = false;
#endif
#else
constexpr bool kAsan = false;
#endif

long MaxRssKb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

TEST(HostileImage, ManyPseudoRandomImagesOnEveryFormatEndWithinBoundedMemory) {
  const long rss_before = MaxRssKb();
  std::mt19937_64 rng(20240515);
  ImageProbeStats total;
  uint64_t loaded = 0;
  const size_t formats = Registry().size();
  for (size_t f = 0; f < formats; ++f) {
    for (int i = 0; i < 150; ++i) {
      const ImageProbeStats st = ProbeImage(RandomInput(rng, static_cast<uint8_t>(f)));
      loaded += st.loaded ? 1 : 0;
      total.leaves += st.leaves;
      total.problems += st.problems;
      total.structure_errors += st.structure_errors;
      total.walks += st.walks;
    }
  }
  // The generator reaches what it is for: images that load, leaves,
  // problems, cycles and shared tables, and the loader's refusals.
  EXPECT_GT(loaded, formats * 50);
  EXPECT_LT(loaded, formats * 150);
  EXPECT_GT(total.leaves, 0u);
  EXPECT_GT(total.problems, 0u);
  EXPECT_GT(total.structure_errors, formats);
  RecordProperty("images", static_cast<int>(formats * 150));
  RecordProperty("structure_errors", static_cast<int>(total.structure_errors));
  std::printf("%zu images: %d loaded, %d leaves, %d problems (%d structure errors), %d walks\n", formats * 150,
              static_cast<int>(loaded), static_cast<int>(total.leaves), static_cast<int>(total.problems),
              static_cast<int>(total.structure_errors), static_cast<int>(total.walks));
  // Images of at most 24 KiB: a process that grew by more than this kept
  // what it walked. ASan keeps freed memory in quarantine (256 MiB by
  // default) and adds its shadow, so its bound is wider.
  constexpr long kGrowthLimitKb = (kAsan ? 1024 : 256) * 1024;
  const long growth = MaxRssKb() - rss_before;
  RecordProperty("rss_growth_kb", static_cast<int>(growth));
  EXPECT_LT(growth, kGrowthLimitKb);
}

}  // namespace
}  // namespace ptsim::cli
