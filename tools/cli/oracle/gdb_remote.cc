#include "tools/cli/oracle/gdb_remote.h"

#include <cstdlib>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "src/base/strings.h"

namespace ptsim::oracle {
namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string Frame(std::string_view payload) {
  unsigned sum = 0;
  for (char c : payload) sum += static_cast<unsigned char>(c);
  return absl::StrFormat("$%s#%02x", payload, sum & 0xff);
}

// Undoes the two transformations a reply may carry: '}' escapes (the next
// byte XOR 0x20) and run-length encoding ("c*n": n - 29 more copies of c).
std::string Decode(std::string_view raw) {
  std::string out;
  for (size_t i = 0; i < raw.size(); ++i) {
    const char c = raw[i];
    if (c == '}' && i + 1 < raw.size()) {
      out.push_back(static_cast<char>(raw[++i] ^ 0x20));
    } else if (c == '*' && i + 1 < raw.size() && !out.empty()) {
      out.append(static_cast<size_t>(static_cast<unsigned char>(raw[++i]) - 29), out.back());
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// The value of attribute `name` in one XML tag, or "".
std::string Attr(std::string_view tag, std::string_view name) {
  const std::string key = absl::StrFormat(" %s=\"", name);
  const size_t at = tag.find(key);
  if (at == std::string_view::npos) return "";
  const size_t from = at + key.size();
  const size_t to = tag.find('"', from);
  return to == std::string_view::npos ? "" : std::string(tag.substr(from, to - from));
}

}  // namespace

absl::StatusOr<std::string> GdbRemote::ReadPacket() {
  for (;;) {
    const size_t start = buf_.find('$');
    if (start != std::string::npos) {
      const size_t hash = buf_.find('#', start);
      if (hash != std::string::npos && hash + 2 < buf_.size()) {
        const std::string raw = buf_.substr(start + 1, hash - start - 1);
        unsigned sum = 0;
        for (char c : raw) sum += static_cast<unsigned char>(c);
        const int hi = HexDigit(buf_[hash + 1]);
        const int lo = HexDigit(buf_[hash + 2]);
        buf_.erase(0, hash + 3);
        if (hi < 0 || lo < 0 || static_cast<unsigned>(hi * 16 + lo) != (sum & 0xff)) {
          return absl::DataLossError("gdb stub reply with a bad checksum");
        }
        if (ack_) {
          if (auto st = conn_.SendAll("+"); !st.ok()) return st;
        }
        return Decode(raw);
      }
    }
    if (auto st = conn_.RecvSome(&buf_); !st.ok()) return st;
  }
}

absl::StatusOr<std::string> GdbRemote::Request(std::string_view payload) {
  // Acks ('+') and stray bytes before a reply carry nothing we need.
  buf_.clear();
  if (auto st = conn_.SendAll(Frame(payload)); !st.ok()) return st;
  auto reply = ReadPacket();
  if (!reply.ok()) {
    return absl::Status(reply.status().code(),
                        absl::StrFormat("gdb stub, packet '%s': %s", payload.substr(0, 40), reply.status().message()));
  }
  return reply;
}

absl::StatusOr<std::string> GdbRemote::ReadFeature(const std::string& annex) {
  std::string xml;
  for (;;) {
    auto r = Request(absl::StrFormat("qXfer:features:read:%s:%x,%x", annex, xml.size(), 0x800));
    if (!r.ok()) return r.status();
    if (r->empty() || ((*r)[0] != 'm' && (*r)[0] != 'l')) {
      return absl::UnavailableError(absl::StrFormat("gdb stub cannot read target description %s: '%s'", annex, *r));
    }
    xml.append(*r, 1);
    if ((*r)[0] == 'l') return xml;
  }
}

// Registers are numbered in document order with includes expanded in place;
// a regnum attribute restarts the count (GDB manual, "Target Description
// Format", "Registers").
absl::Status GdbRemote::AddRegisters(const std::string& annex, int depth, int* next_regnum) {
  if (depth > 4) return absl::InvalidArgumentError("gdb target description includes nest too deeply");
  auto xml = ReadFeature(annex);
  if (!xml.ok()) return xml.status();
  for (size_t at = 0; (at = xml->find('<', at)) != std::string::npos;) {
    // QEMU's x86 description comments out some registers; they have no number.
    if (xml->compare(at, 4, "<!--") == 0) {
      const size_t close = xml->find("-->", at);
      if (close == std::string::npos) break;
      at = close + 3;
      continue;
    }
    const size_t end = xml->find('>', at);
    if (end == std::string::npos) break;
    const std::string_view tag(xml->data() + at, end - at + 1);
    at = end;
    if (tag.starts_with("<xi:include")) {
      if (auto st = AddRegisters(Attr(tag, "href"), depth + 1, next_regnum); !st.ok()) return st;
    } else if (tag.starts_with("<reg ")) {
      const std::string regnum = Attr(tag, "regnum");
      int n = 0;
      if (!regnum.empty() && absl::SimpleAtoi(regnum, &n)) *next_regnum = n;
      regs_.emplace(Attr(tag, "name"), (*next_regnum)++);
    }
  }
  return absl::OkStatus();
}

absl::Status GdbRemote::Handshake() {
  auto sup = Request("qSupported:xmlRegisters=i386");
  if (!sup.ok()) return sup.status();
  if (sup->find("qXfer:features:read+") == std::string::npos) {
    return absl::UnavailableError("QEMU's gdb stub offers no target description (qXfer:features:read)");
  }
  if (sup->find("QStartNoAckMode+") != std::string::npos) {
    auto r = Request("QStartNoAckMode");
    if (r.ok() && *r == "OK") ack_ = false;
  }
  int next = 0;
  return AddRegisters("target.xml", 0, &next);
}

absl::StatusOr<int> GdbRemote::RegNum(std::string_view name) const {
  const auto it = regs_.find(name);
  if (it == regs_.end()) {
    return absl::NotFoundError(absl::StrFormat("QEMU's gdb stub has no register '%s'", name));
  }
  return it->second;
}

absl::StatusOr<uint64_t> GdbRemote::ReadRegister(std::string_view name) {
  auto n = RegNum(name);
  if (!n.ok()) return n.status();
  auto r = Request(absl::StrFormat("p%x", *n));
  if (!r.ok()) return r.status();
  if (r->empty() || r->size() % 2 != 0 || r->size() > 16 || (*r)[0] == 'E') {
    return absl::UnavailableError(absl::StrFormat("reading register %s: gdb stub answered '%s'", name, *r));
  }
  uint64_t v = 0;
  for (size_t i = 0; i < r->size(); i += 2) {
    const int hi = HexDigit((*r)[i]);
    const int lo = HexDigit((*r)[i + 1]);
    if (hi < 0 || lo < 0) return absl::DataLossError(absl::StrFormat("register %s: bad hex '%s'", name, *r));
    v |= static_cast<uint64_t>(hi * 16 + lo) << (4 * i);
  }
  return v;
}

absl::Status GdbRemote::WriteRegister(std::string_view name, uint64_t value) {
  auto n = RegNum(name);
  if (!n.ok()) return n.status();
  // The width the stub uses for this register now: it reads as many bytes
  // as it would send.
  auto cur = Request(absl::StrFormat("p%x", *n));
  if (!cur.ok()) return cur.status();
  const size_t bytes = cur->size() / 2;
  if (bytes == 0 || bytes > 8 || (*cur)[0] == 'E') {
    return absl::UnavailableError(absl::StrFormat("reading register %s: gdb stub answered '%s'", name, *cur));
  }
  if (bytes < 8 && (value >> (8 * bytes)) != 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("register %s is %d bytes wide in this CPU mode; 0x%x does not fit", name, bytes, value));
  }
  std::string hex;
  for (size_t i = 0; i < bytes; ++i) absl::StrAppendFormat(&hex, "%02x", (value >> (8 * i)) & 0xff);
  auto r = Request(absl::StrFormat("P%x=%s", *n, hex));
  if (!r.ok()) return r.status();
  if (*r != "OK") return absl::UnavailableError(absl::StrFormat("writing register %s: gdb stub answered '%s'", name, *r));
  return absl::OkStatus();
}

absl::Status GdbRemote::Step() {
  auto r = Request("s");
  if (!r.ok()) return r.status();
  // "T05..." or "S05": stopped by SIGTRAP after the step.
  if (r->size() < 3 || ((*r)[0] != 'T' && (*r)[0] != 'S') || r->compare(1, 2, "05") != 0) {
    return absl::UnavailableError(absl::StrFormat("single step: gdb stub answered '%s'", *r));
  }
  return absl::OkStatus();
}

}  // namespace ptsim::oracle
