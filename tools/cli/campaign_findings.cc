// ptsim campaign: every finding file is replayed once by the command the
// summary prints for it, and files whose replays report the same signature
// are one finding (five crash files of one bug are one line). The
// signature, in order of preference:
//   1. the "signature" ptsim's --json report gives (repro, diff): the
//      failing check's name, e.g. x86_64_4level-unmap-structure;
//   2. an "Assertion failure: SIG" line in the replay's output (the fuzz
//      targets print it before aborting; when ptsim's command reports
//      nothing the fuzz target itself replays the file, and if only it
//      reproduces the finding, its command is the one printed);
//   3. a sanitizer's SUMMARY kind and the first frame in ptsim's own code,
//      e.g. "AddressSanitizer: heap-use-after-free in ptsim::Foo()";
//   4. the kind of file alone: timeouts and out-of-memory files are not
//      replayed (a replay would take the whole timeout: "timeout (not
//      replayed)"), and a file whose replay reports nothing says so
//      ("crash (did not reproduce)").
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "src/base/strings.h"
#include "tools/cli/campaign.h"
#include "tools/cli/campaign_process.h"
#include "tools/cli/common.h"
#include "tools/cli/printed_commands.h"

namespace ptsim::cli::campaign {
namespace {

namespace fs = std::filesystem;

// Files of one target beyond this many are counted, not replayed (fork
// mode can save hundreds for one bug).
constexpr size_t kMaxReplaysPerTarget = 50;
constexpr double kReplayTimeout = 30;

// How each target's finding files replay with no other flags. Programs of
// ops_fuzzer, race_fuzzer and tlb_fuzzer carry every setting they ran with,
// so `ptsim repro FILE` replays them; a diff_fuzzer program is compared
// across every format by `ptsim diff --formats all`; anything else (images,
// a target ptsim does not know) is replayed by the fuzz target itself.
std::vector<std::string> ReproArgv(const std::string& target, const std::string& binary, const std::string& file) {
  const std::string abs = AbsolutePath(file);
  if (target == "ops_fuzzer" || target == "race_fuzzer" || target == "tlb_fuzzer") {
    return {SelfPath(), "repro", abs};
  }
  if (target == "diff_fuzzer") return {SelfPath(), "diff", "--formats", "all", abs};
  return {binary.empty() ? target : binary, abs};
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The first "signature" string anywhere in a JSON document.
std::string FindSignature(const Json& j) {
  if (j.is_object()) {
    if (auto it = j.find("signature"); it != j.end() && it->is_string()) return it->get<std::string>();
  }
  if (j.is_object() || j.is_array()) {
    for (const Json& v : j) {
      if (std::string s = FindSignature(v); !s.empty()) return s;
    }
  }
  return "";
}

// Signatures 2 and 3 from a replay's text output.
std::string SignatureFromText(std::string_view text) {
  std::string summary, frame;
  for (absl::string_view piece : absl::StrSplit(Sv(text), '\n')) {
    std::string_view line = StdSv(absl::StripTrailingAsciiWhitespace(piece));
    // tlb_fuzzer's report may run into it on the same line.
    if (const size_t at = line.find("Assertion failure: "); at != std::string_view::npos) {
      return std::string(line.substr(at + 19));
    }
    if (summary.empty() && line.starts_with("SUMMARY: ")) {
      line.remove_prefix(9);
      // "AddressSanitizer: heap-use-after-free /src/x.cc:12:3 in F": the
      // tool and kind; leaks keep only the word (their sizes vary).
      const std::vector<std::string> words = absl::StrSplit(Sv(line), ' ');
      summary = words[0];
      if (words.size() > 1) {
        summary += line.find("leaked in") != std::string_view::npos ? " leak" : absl::StrCat(" ", words[1]);
      }
    }
    // "    #3 0x55d0 in ptsim::Space<...>::Map(...) /src/ptsim/src/ops/space.h:120:7"
    const std::string_view stripped = StdSv(absl::StripLeadingAsciiWhitespace(Sv(line)));
    if (frame.empty() && stripped.starts_with("#") && (line.find("/src/") != std::string_view::npos ||
                                                       line.find("/fuzz/") != std::string_view::npos)) {
      const size_t in = stripped.find(" in ");
      const size_t file = stripped.rfind(' ');
      if (in != std::string_view::npos && file > in + 4) frame = std::string(stripped.substr(in + 4, file - in - 4));
    }
  }
  if (summary.empty()) return "";
  return frame.empty() ? summary : absl::StrCat(summary, " in ", frame);
}

struct Classified {
  std::string signature;
  bool reproduced = false;
  std::vector<std::string> repro;  // the command that replays the file
};

// Runs argv on the file (ptsim commands with --json), output in
// work/replay.{out,err}; returns the signature it reported, if any.
std::string Replay(const TargetRun& t, std::vector<std::string> argv, bool json, int* rc) {
  if (json) argv.push_back("--json");
  const std::string out = absl::StrCat(t.work, "/replay.out"), err = absl::StrCat(t.work, "/replay.err");
  std::error_code ec;
  fs::remove(out, ec);
  fs::remove(err, ec);
  bool timed_out = false;
  auto r = RunWithTimeout(argv, out, kReplayTimeout, 2, &timed_out, {}, err);
  *rc = r.ok() ? *r : -1;
  const std::string stdout_text = ReadAll(out);
  if (json) {
    const Json j = Json::parse(stdout_text, nullptr, false);
    if (!j.is_discarded()) {
      if (std::string s = FindSignature(j); !s.empty()) return s;
    }
  }
  return SignatureFromText(stdout_text + "\n" + ReadAll(err));
}

std::string KindOf(const std::string& file) {
  const std::string name = fs::path(file).filename().string();
  const std::string dir = fs::path(file).parent_path().filename().string();
  if (dir == "hangs") return "timeout";
  if (dir == "crashes") return "crash";
  return name.substr(0, name.find('-'));
}

Classified Classify(const TargetRun& t, const std::string& file) {
  const std::string kind = KindOf(file);
  std::vector<std::string> argv = ReproArgv(t.name, t.binary, file);
  if (kind == "timeout" || kind == "oom") return {kind + " (not replayed)", false, argv};
  if (Interrupted()) return {kind + " (not replayed: interrupted)", false, argv};
  const bool is_ptsim = argv[0] == SelfPath();
  int rc = 0;
  std::string sig = Replay(t, argv, is_ptsim, &rc);
  // A ptsim command that found nothing: the fuzz target's own crash output,
  // and if the target reproduces it, its command is the one to print.
  if (sig.empty() && is_ptsim) {
    std::vector<std::string> direct = {t.binary, AbsolutePath(file)};
    int direct_rc = 0;
    sig = Replay(t, direct, false, &direct_rc);
    if (rc == 0 && direct_rc != 0) {
      argv = std::move(direct);
      rc = direct_rc;
    }
  }
  if (sig.empty()) sig = rc != 0 ? absl::StrFormat("%s (exit %d)", kind, rc) : kind + " (did not reproduce)";
  return {sig, rc != 0, argv};
}

}  // namespace

std::string ReplayCommand(const TargetRun& t, const std::string& file) {
  return ShellJoin({t.binary, AbsolutePath(file)});
}

std::vector<FindingGroup> GroupFindings(const Options& o, const std::vector<TargetRun>& runs) {
  std::vector<FindingGroup> groups;
  absl::flat_hash_map<std::string, size_t> index;  // target + signature -> group
  for (const TargetRun& t : runs) {
    for (size_t i = 0; i < t.artifacts.size(); ++i) {
      const std::string& file = t.artifacts[i];
      Classified c;
      if (i < kMaxReplaysPerTarget) {
        c = Classify(t, file);
      } else {
        c = {absl::StrFormat("%s (not replayed: more than %d files)", KindOf(file), kMaxReplaysPerTarget), false,
             ReproArgv(t.name, t.binary, file)};
      }
      const std::string key = absl::StrCat(t.name, "\n", c.signature);
      auto [it, added] = index.try_emplace(key, groups.size());
      if (added) {
        FindingGroup g;
        g.signature = c.signature;
        g.target = t.name;
        g.first_file = file;
        g.repro = ShellJoin(c.repro);
        g.replay = ReplayCommand(t, file);
        g.reproduced = c.reproduced;
        groups.push_back(std::move(g));
      }
      groups[it->second].files.push_back(file);
    }
  }
  return groups;
}

}  // namespace ptsim::cli::campaign
