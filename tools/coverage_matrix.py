#!/usr/bin/env python3
"""Format x behaviour matrix from llvm-cov's per-function coverage data.

    coverage_matrix.py --export FUNCTIONS.json --types TYPES.txt [--out DIR] [--json]
    coverage_matrix.py --list-sources | --check-sources ROOT

FUNCTIONS.json is `llvm-cov export` output (not -summary-only: it needs the functions and their
regions). TYPES.txt is ptsim_format_types' output: "NAME MANGLED_TYPE" per registered format, in
registry order. Writes DIR/matrix.txt, DIR/matrix.json and DIR/matrix.svg (DIR defaults to the
current directory) and prints the table, or with --json the matrix as JSON, on stdout.

The generic code is templates over the format, so every function below is compiled once per
format (and per sync policy: alone or racing), and llvm-cov counts each instantiation on its own.
A behaviour is a function (its qualified name, template arguments left out) and optionally an
anchor: a line of its source and the text where counting starts on that line. With an anchor
the count is the execution count of the innermost code region holding that text (in the
function or a lambda defined in it), else the number of times the function was entered.
Instantiations are attributed to a registry name by finding the format's C++ type (from
TYPES.txt, demangled by the same demangler as the functions) in the demangled name. Cells:
    N    the behaviour ran N times (function entries, or executions of the anchored region)
    0    compiled for this format, never reached by the replay
    -    no such code was compiled for this format (no instantiation, or the anchored code is
         discarded for it by `if constexpr`)
    n/a  the format lacks the member the behaviour needs (e.g. no replicated leaves at all)
    ?    not measured: no function of that name in the data, or its anchor text is gone
--list-sources prints the sources the behaviours live in, relative to the repository root (to
restrict `llvm-cov export` to them); --check-sources ROOT checks that each behaviour's file,
function and anchor line are still there (a renamed function would otherwise show as `?`).
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import coverage_svg  # noqa: E402  (beside this file)

# What the matrix shows. `function` is the qualified name with template arguments written `<>`;
# it is compared with each demangled name reduced to its skeleton (every <...> and (...) emptied),
# so a function that only names it in a template argument does not match. A behaviour without
# an anchor counts entries into the function itself; one with an anchor looks in the function
# and in the lambdas defined in it. `needs` names a member function of the format type without
# which the behaviour cannot happen for that format. The titles say how each is measured.
BEHAVIOURS = [
    {"key": "map", "file": "src/ops/space_map.h", "function": "ptsim::SpaceMap<>::MapIn",
     "title": "map descended into a table (SpaceMap::MapIn entered; once per table)"},
    {"key": "split", "file": "src/ops/space_tables.h", "function": "ptsim::SpaceTables<>::SplitEntry",
     "title": "split of a large one-entry leaf into a table of smaller leaves (SpaceTables::SplitEntry)"},
    {"key": "grp-split", "file": "src/ops/space_tables.h", "function": "ptsim::SpaceTables<>::SplitGroup",
     "needs": "EncodeReplica",
     "title": "split of a replicated group in place (SpaceTables::SplitGroup)"},
    {"key": "grp-write", "file": "src/ops/space_tables.h", "function": "ptsim::SpaceTables<>::StoreLeaf",
     "anchor": {"line": "if (n > 1) Settled(version);", "at": "Settled"}, "needs": "EncodeReplica",
     "title": "replicated group written (contig / NAPOT / large page): StoreLeaf of n > 1 entries"},
    {"key": "skip-walk", "file": "src/pt/geometry.h", "function": "ptsim::SkippedVaMask<>",
     "anchor": {"line": "return LowMask(f.ItemLg2(l)) & ~LowMask(f.ItemLg2(next.Above()));", "at": "return"},
     "needs": "NextTableLevel",
     "title": "a walk followed an entry that skips levels (SkippedVaMask past its no-skip return)"},
    {"key": "unskip", "file": "src/ops/space_map.h", "function": "ptsim::SpaceMap<>::Unskip",
     "needs": "NextTableLevel",
     "title": "skipping entry expanded one level by a map (SpaceMap::Unskip)"},
    {"key": "fork", "file": "src/ops/space_leaves.h", "function": "ptsim::SpaceLeaves<>::CopyLeaf<>",
     "title": "fork copied a leaf (SpaceLeaves::CopyLeaf)"},
    {"key": "cow", "file": "src/ops/space_leaves.h", "function": "ptsim::SpaceLeaves<>::CopyLeaf<>",
     "anchor": {"line": "const LeafAttrs shared = attrs.Without(Attr::kWrite);", "at": "const"},
     "title": "fork write-protected a writable leaf to share it copy-on-write (CopyLeaf)"},
    {"key": "gup", "file": "src/conc/gup.h", "function": "ptsim::conc_internal::GupFast<>",
     "title": "GUP-fast ran in a race program (conc_internal::GupFast)"},
    {"key": "protect", "file": "src/ops/space.h", "function": "ptsim::Space<>::ProtectIn",
     "anchor": {"line": "Invalidate(g.span, false);", "at": "Invalidate"},
     "title": "protect rewrote a leaf (the rewrite in Space::ProtectIn)"},
    {"key": "populate", "file": "src/ops/space_map.h", "function": "ptsim::SpaceMap<>::Populate",
     "title": "racing map (populate) ran (SpaceMap::Populate)"},
]

CODE_REGION = 0  # llvm-cov's region kinds: 0 code, 1 expansion, 2 skipped, 3 gap, 4 branch


def find_demangler():
    for tool in ("llvm-cxxfilt-14", "llvm-cxxfilt", "c++filt"):
        if shutil.which(tool):
            return tool
    sys.exit("coverage_matrix.py: no demangler (llvm-cxxfilt-14, llvm-cxxfilt or c++filt) on PATH")


def demangle(demangler, names):
    """Demangles many names with one process; returns {mangled: demangled}."""
    names = sorted(set(names))
    out = subprocess.run([demangler], input="\n".join(names) + "\n", capture_output=True, text=True,
                         check=True).stdout.split("\n")
    return dict(zip(names, out))


def skeleton(name):
    """A demangled name with the insides of every <...> and (...) removed: "void
    ns::A<int>::f<B<C>>(D<E>) const" becomes "void ns::A<>::f<>() const". `operator<`-like
    names come out garbled, which only means they match no behaviour."""
    out, depth = [], 0
    for ch in name:
        if ch in "<(":
            if depth == 0:
                out.append(ch)
            depth += 1
        elif ch in ">)":
            depth = max(0, depth - 1)
            if depth == 0:
                out.append(ch)
        elif depth == 0:
            out.append(ch)
    return "".join(out)


def function_pattern(b):
    """The function itself; with an anchor, also the lambdas defined in it."""
    tail = r"(::|$)" if "anchor" in b else r"$"
    return re.compile(r"(^|\s)" + re.escape(b["function"]) + r"\(\)( const)?" + tail)


def read_types(path):
    formats = []
    with open(path) as f:
        for line in f:
            if line.strip():
                name, mangled = line.split()
                formats.append((name, mangled))
    return formats


def attribute(name, types):
    """The registry name whose C++ type occurs first in a demangled name, or None."""
    best = None
    for fmt, t in types:
        at = 0
        while (at := name.find(t, at)) >= 0:
            before = name[at - 1] if at else " "
            after = name[at + len(t)] if at + len(t) < len(name) else " "
            if before in " <(,&*:" and after in " >(),&*:":
                if best is None or at < best[0]:
                    best = (at, fmt)
                break
            at += 1
    return best[1] if best else None


def anchor_point(record, behaviour, sources):
    """(line, column) of the anchor within the lines this record covers in the behaviour's file
    (None if it is not there), and the record's code regions in that file."""
    regions = [r for r in record["regions"] if r[7] == CODE_REGION and
               record["filenames"][r[5]].endswith("/" + behaviour["file"])]
    if not regions:
        return None, None
    path = record["filenames"][regions[0][5]]
    if path not in sources:
        try:
            with open(path) as f:
                sources[path] = f.read().split("\n")
        except OSError:
            sources[path] = []
    lines = sources[path]
    first, last = min(r[0] for r in regions), max(r[2] for r in regions)
    anchor = behaviour["anchor"]
    for n in range(first, min(last, len(lines)) + 1):
        text = lines[n - 1]
        col = text.find(anchor["line"])
        if col >= 0:
            return (n, text.find(anchor["at"], col) + 1), regions
    return None, regions


def count_anchor(records, behaviour, sources):
    """Per format: the summed count of the innermost regions holding the anchor; and whether the
    anchor text was found (None when no function matched, so there was nowhere to look)."""
    found = None if not records else False
    # fmt -> (the innermost region's position so far, {record name: its count}); records of the
    # same source (alone and racing instantiations) share the position and add up.
    best = {}
    for name, fmt, rec in records:
        p, regions = anchor_point(rec, behaviour, sources)
        if p is None:
            continue
        found = True
        holding = [r for r in regions if (r[0], r[1]) <= p < (r[2], r[3])]
        if not holding:
            continue
        r = max(holding, key=lambda r: ((r[0], r[1]), (-r[2], -r[3])))
        key = ((r[0], r[1]), (-r[2], -r[3]))
        if fmt not in best or key > best[fmt][0]:
            best[fmt] = (key, {})
        if key == best[fmt][0]:
            best[fmt][1][name] = r[4]
    return {fmt: sum(counts.values()) for fmt, (_, counts) in best.items()}, found


def build_matrix(export, types_path, demangler):
    raw_types = read_types(types_path)
    records = {}
    for data in export["data"]:
        for rec in data.get("functions", []):
            records.setdefault(rec["name"], rec)  # one record per instantiation, whatever the binary
    typenames = demangle(demangler, ["_ZTS" + m for _, m in raw_types])
    types = [(fmt, typenames["_ZTS" + m].split(" for ", 1)[-1]) for fmt, m in raw_types]
    names = demangle(demangler, records.keys())
    attributed = []
    for mangled, rec in records.items():
        fmt = attribute(names[mangled], types)
        if fmt:
            attributed.append((names[mangled], fmt, rec))
    type_of = dict(types)
    members = {fmt: set() for fmt, _ in types}  # the format type's own member functions seen
    for name, fmt, _ in attributed:
        if name.startswith(type_of[fmt] + "::"):
            members[fmt].add(name[len(type_of[fmt]) + 2:].split("(", 1)[0])
    sources = {}
    result = {"formats": [f for f, _ in types], "behaviours": [], "cells": {f: {} for f, _ in types}}
    for b in BEHAVIOURS:
        pattern = function_pattern(b)
        matched = [(n, f, r) for n, f, r in attributed if pattern.search(skeleton(n))]
        note = ""
        if not matched:
            note = f"no function {b['function']} in the coverage data: not measured"
            counts = {}
        elif "anchor" in b:
            counts, found = count_anchor(matched, b, sources)
            if found is False:
                note = f"anchor {b['anchor']['line']!r} not found in {b['file']}: not measured"
        else:
            counts = {}
            for n, f, r in matched:
                counts[f] = counts.get(f, 0) + r["count"]
        for fmt, _ in types:
            if note:
                cell = {"state": "unknown", "count": None}
            elif "needs" in b and b["needs"] not in members[fmt]:
                cell = {"state": "n/a", "count": None}
            elif fmt not in counts:
                cell = {"state": "absent", "count": None}
            else:
                cell = {"state": "reached" if counts[fmt] else "zero", "count": counts[fmt]}
            result["cells"][fmt][b["key"]] = cell
        reached = sum(1 for f, _ in types if result["cells"][f][b["key"]]["state"] == "reached")
        result["behaviours"].append({"key": b["key"], "title": b["title"], "file": b["file"],
                                     "function": b["function"], "anchor": b.get("anchor"),
                                     "formats_reached": reached, "note": note})
    return result


def check_sources(root):
    """Problems that would leave a behaviour unmeasured: its file, function or anchor line gone
    from the sources under `root`."""
    problems = []
    for b in BEHAVIOURS:
        path = os.path.join(root, b["file"])
        try:
            with open(path) as f:
                text = f.read()
        except OSError:
            problems.append(f"{b['key']}: {b['file']} does not exist")
            continue
        name = b["function"].replace("<>", "").rsplit("::", 1)[-1]
        if not re.search(r"\b" + re.escape(name) + r"\s*\(", text):
            problems.append(f"{b['key']}: no function {name} in {b['file']}")
        if "anchor" in b and b["anchor"]["line"] not in text:
            problems.append(f"{b['key']}: anchor {b['anchor']['line']!r} not in {b['file']}")
    return problems


def short(n):
    for div, suffix in ((10**9, "G"), (10**6, "M"), (10**3, "k")):
        if n >= div:
            v = n / div
            return (f"{v:.1f}" if v < 10 else f"{v:.0f}") + suffix
    return str(n)


def cell_text(cell):
    return {"reached": lambda: short(cell["count"]), "zero": lambda: "0", "absent": lambda: "-",
            "n/a": lambda: "n/a", "unknown": lambda: "?"}[cell["state"]]()


def render_text(m):
    keys = [b["key"] for b in m["behaviours"]]
    width = max(len(f) for f in m["formats"] + ["format"])
    cols = [max(len(k), 5) for k in keys]
    out = ["format".ljust(width) + "".join(" " + k.rjust(c) for k, c in zip(keys, cols))]
    for f in m["formats"]:
        out.append(f.ljust(width) + "".join(" " + cell_text(m["cells"][f][k]).rjust(c) for k, c in zip(keys, cols)))
    out.append("reached".ljust(width) + "".join(
        " " + f"{b['formats_reached']}/{len(m['formats'])}".rjust(c) for b, c in zip(m["behaviours"], cols)))
    out.append("")
    out.append("N executions, 0 compiled but not reached, - not compiled for the format, n/a the format "
               "cannot, ? not measured")
    for b in m["behaviours"]:
        out.append(f"  {b['key']:<10} {b['title']}")
    for b in m["behaviours"]:
        if b["note"]:
            out.append(f"  note: {b['key']}: {b['note']}")
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--export", help="llvm-cov export JSON (with functions)")
    ap.add_argument("--types", help="ptsim_format_types output")
    ap.add_argument("--out", default=".", help="directory for matrix.txt, matrix.json, matrix.svg")
    ap.add_argument("--json", action="store_true", help="print the matrix as JSON instead of the table")
    ap.add_argument("--demangler", help="c++filt-like command (default: llvm-cxxfilt-14, llvm-cxxfilt, c++filt)")
    ap.add_argument("--list-sources", action="store_true", help="print the behaviours' source files and exit")
    ap.add_argument("--check-sources", metavar="ROOT",
                    help="check that every behaviour's file, function and anchor exist under ROOT; exit 1 if not")
    args = ap.parse_args()
    if args.list_sources:
        print("\n".join(sorted({b["file"] for b in BEHAVIOURS})))
        return 0
    if args.check_sources:
        problems = check_sources(args.check_sources)
        for p in problems:
            print("coverage_matrix.py: " + p, file=sys.stderr)
        return 1 if problems else 0
    if not args.export or not args.types:
        ap.error("--export and --types are required")
    with open(args.export) as f:
        export = json.load(f)
    m = build_matrix(export, args.types, args.demangler or find_demangler())
    os.makedirs(args.out, exist_ok=True)
    text = render_text(m)
    with open(os.path.join(args.out, "matrix.txt"), "w") as f:
        f.write(text)
    with open(os.path.join(args.out, "matrix.json"), "w") as f:
        json.dump(m, f, indent=1, sort_keys=True)
        f.write("\n")
    with open(os.path.join(args.out, "matrix.svg"), "w") as f:
        f.write(coverage_svg.render(m, cell_text))
    sys.stdout.write(json.dumps(m, indent=1, sort_keys=True) + "\n" if args.json else text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
