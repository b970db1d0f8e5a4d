#!/usr/bin/env bash
# Fails if a concrete format type from the registry (src/formats/all_formats.h)
# is named outside the places that are about one format: src/formats/ itself,
# the per-format golden tests (tests/formats/*_golden_test.cc), the
# per-architecture hardware rules and their tests (src/hw/, tests/hw/), and the
# benchmarks (bench/, which compare one format's walker with a hand-written
# one). Everywhere else, code must reach formats through the registry, so that
# adding a format needs no edit there.
#
# Usage: format_names_lint.sh SOURCE_DIR
set -euo pipefail
if (($# != 1)); then
  echo "usage: $0 SOURCE_DIR" >&2
  exit 2
fi
cd "$1"

mapfile -t types < <(grep -oE 'fmt::[A-Za-z0-9_]+' src/formats/all_formats.h | sed 's/^fmt:://' | sort -u)
if ((${#types[@]} == 0)); then
  echo "FAIL  no fmt::Type entries found in src/formats/all_formats.h: the lint cannot work" >&2
  exit 1
fi
pattern=$(IFS='|'; echo "${types[*]}")

# Every tracked or new source file outside the allowed places.
mapfile -t files < <(find src tools fuzz tests -type f \( -name '*.h' -o -name '*.cc' -o -name '*.sh' -o -name '*.txt' \) \
  ! -path 'src/formats/*' ! -path 'tests/formats/*_golden_test.cc' ! -path 'src/hw/*' ! -path 'tests/hw/*' ! -path 'tests/lint/*' | sort)

status=0
if hits=$(grep -nwE "$pattern" "${files[@]}"); then
  echo "FAIL  concrete format types named outside src/formats/ (use the registry instead):"
  echo "$hits" | sed 's/^/  /'
  status=1
else
  echo "PASS  ${#types[@]} registered format types (${types[*]}) appear only in src/formats/, golden tests and bench/"
fi

# Second check: a format is never picked by comparing its name, anywhere
# (src/hw included): no `kName ==`, no name or name prefix compared as a
# string. The registry list (src/pt/format_list.h WithName) and the
# registry itself (src/any/registry.cc) are the only dispatch by name; the
# formats' own headers define the names. Golden tests may assert a name.
mapfile -t names < <(grep -ohE '"(x86|armv|riscv|vtd|amd|fake)[a-z0-9_]*"' src/formats/*.h | tr -d '"' | sort -u)
mapfile -t files2 < <(find src tools fuzz tests bench -type f \( -name '*.h' -o -name '*.cc' \) \
  ! -path 'src/formats/*' ! -path 'tests/formats/*_golden_test.cc' ! -path 'src/pt/format_list.h' \
  ! -path 'src/any/registry.cc' | sort)
names_re=$(IFS='|'; echo "${names[*]}")
compare_re="kName *(==|!=)|(==|!=) *[A-Za-z_:<>]*kName\\b|kName\\.(starts_with|rfind|find|compare)|starts_with\\(\"(x86|armv|riscv|vtd|amd|fake)|(==|!=) *\"($names_re)\"|\"($names_re)\" *(==|!=)"
if hits=$(grep -nE "$compare_re" "${files2[@]}"); then
  echo "FAIL  a format picked by comparing its name (dispatch through the registry: FormatList::WithName,"
  echo "      FindFormat, or a HwRules<F> member):"
  echo "$hits" | sed 's/^/  /'
  status=1
else
  echo "PASS  no format is picked by comparing its name outside the registry (${#names[@]} names checked)"
fi
exit "$status"
