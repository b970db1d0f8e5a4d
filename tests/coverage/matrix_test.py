#!/usr/bin/env python3
"""Tests tools/coverage_matrix.py (the format x behaviour matrix of tools/coverage.sh) without a
coverage build: on matrix_export.json, a hand-made `llvm-cov export` with real mangled names of a
few instantiations, and matrix_types.txt, ptsim_format_types lines for four formats.

    matrix_test.py --source DIR --ptsim PTSIM --format-types PTSIM_FORMAT_TYPES

The export's regions point into small stand-in sources written here at the lines the anchors
need, so the real sources can change without touching the fixture. Also checks, on the real
build and tree: that ptsim_format_types lists exactly the registry's formats with types that
demangle and agree with the fixture, that every behaviour's file, function and anchor line
still exist, and that tools/coverage.sh answers --help.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ET

ARGS = None
HERE = os.path.dirname(os.path.abspath(__file__))

# Stand-in sources: {path: {line: text}}; the fixture's regions use these positions.
SOURCES = {
    "src/ops/space_tables.h": {23: "    if (n > 1) Settled(version);"},
    "src/ops/space.h": {16: "      Invalidate(g.span, false);"},
    "src/pt/geometry.h": {31: "  if (next.Above() == l) return 0;",
                          32: "  return LowMask(f.ItemLg2(l)) & ~LowMask(f.ItemLg2(next.Above()));"},
    "src/ops/space_leaves.h": {50: "    const LeafAttrs shared = attrs.Without(Attr::kWrite);"},
    "src/ops/space_map.h": {},
    "src/conc/gup.h": {},
}

# The table the fixture must give: MapIn alone and racing add up, while the MapIn lambda and the
# ForEntries instantiation that only name MapIn in a template argument do not count; StoreLeaf's
# group region counts only where the format has EncodeReplica; protect counts the rewrite lambda,
# not ProtectIn itself; nothing populates or splits groups, so those are not measured (`?`).
EXPECTED = {
    "format": "map split grp-split grp-write skip-walk unskip fork cow gup protect populate".split(),
    "x86_64_4level": "15 3 ? n/a n/a n/a 32 31 6 - ?".split(),
    "armv8_s1_4k": "- - ? 3 n/a n/a - - - 6 ?".split(),
    "amd_iommu_v1": "- - ? n/a 0 6 - - - - ?".split(),
    "fake": "- - ? n/a n/a n/a - - - - ?".split(),
    "reached": "1/4 1/4 0/4 1/4 0/4 1/4 1/4 1/4 1/4 1/4 0/4".split(),
}


def run(*cmd, check=True):
    return subprocess.run(list(cmd), capture_output=True, text=True, check=check)


class MatrixTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name
        for path, lines in SOURCES.items():
            self.write_source(path, lines)
        with open(os.path.join(HERE, "matrix_export.json")) as f:
            export = f.read().replace("@SRC@", self.dir)
        self.export = os.path.join(self.dir, "export.json")
        with open(self.export, "w") as f:
            f.write(export)
        self.script = os.path.join(ARGS.source, "tools", "coverage_matrix.py")

    def tearDown(self):
        self.tmp.cleanup()

    def write_source(self, path, lines):
        full = os.path.join(self.dir, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w") as f:
            for n in range(1, 70):
                f.write(lines.get(n, f"// line {n}") + "\n")

    def matrix(self, out, *extra):
        return run(sys.executable, self.script, "--export", self.export, "--types",
                   os.path.join(HERE, "matrix_types.txt"), "--out", os.path.join(self.dir, out), *extra)

    def rows(self, text):
        return {line.split()[0]: line.split()[1:] for line in text.split("\n\n", 1)[0].splitlines()}

    def test_table(self):
        r = self.matrix("out")
        self.assertEqual(self.rows(r.stdout), EXPECTED, r.stdout)
        with open(os.path.join(self.dir, "out", "matrix.txt")) as f:
            self.assertEqual(f.read(), r.stdout)
        self.assertIn("note: populate: no function ptsim::SpaceMap<>::Populate in the coverage data", r.stdout)

    def test_json(self):
        r = self.matrix("out", "--json")
        m = json.loads(r.stdout)
        with open(os.path.join(self.dir, "out", "matrix.json")) as f:
            self.assertEqual(json.load(f), m)
        self.assertEqual(m["formats"], ["x86_64_4level", "armv8_s1_4k", "amd_iommu_v1", "fake"])
        self.assertEqual(m["cells"]["armv8_s1_4k"]["protect"], {"state": "reached", "count": 6})
        self.assertEqual(m["cells"]["amd_iommu_v1"]["skip-walk"], {"state": "zero", "count": 0})
        self.assertEqual(m["cells"]["x86_64_4level"]["grp-write"], {"state": "n/a", "count": None})
        self.assertEqual(m["cells"]["fake"]["map"], {"state": "absent", "count": None})
        self.assertEqual({b["key"]: b["formats_reached"] for b in m["behaviours"]}["unskip"], 1)

    def test_svg(self):
        self.matrix("out")
        root = ET.parse(os.path.join(self.dir, "out", "matrix.svg")).getroot()
        ns = "{http://www.w3.org/2000/svg}"
        self.assertEqual(root.tag, ns + "svg")
        tips = [g.find(ns + "title").text for g in root.iter(ns + "g")]
        self.assertEqual(len(tips), 4 * len(EXPECTED["format"]))
        self.assertIn("armv8_s1_4k / protect: 6 executions", tips)
        self.assertIn("x86_64_4level / grp-write: n/a", tips)
        cells = {g.find(ns + "title").text.split(":")[0]: g.find(ns + "text").text for g in root.iter(ns + "g")}
        self.assertEqual(cells["x86_64_4level / map"], "15")
        self.assertEqual(cells["fake / populate"], "?")

    def test_deterministic(self):
        self.matrix("a")
        self.matrix("b")
        for name in ("matrix.txt", "matrix.json", "matrix.svg"):
            with open(os.path.join(self.dir, "a", name), "rb") as a, open(os.path.join(self.dir, "b", name), "rb") as b:
                self.assertEqual(a.read(), b.read(), name)

    def test_missing_anchor_is_not_measured(self):
        self.write_source("src/ops/space.h", {16: "      Flush(g.span);"})
        r = self.matrix("out")
        self.assertEqual([row[EXPECTED["format"].index("protect")] for f, row in self.rows(r.stdout).items()
                          if f not in ("format", "reached")], ["?"] * 4)
        self.assertIn("note: protect: anchor 'Invalidate(g.span, false);' not found in src/ops/space.h", r.stdout)

    def test_real_sources_hold_every_behaviour(self):
        r = run(sys.executable, self.script, "--check-sources", ARGS.source, check=False)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_format_types_tool(self):
        lines = [l.split() for l in run(ARGS.format_types).stdout.splitlines()]
        formats = json.loads(run(ARGS.ptsim, "formats", "--json").stdout)
        formats = formats if isinstance(formats, list) else formats["formats"]
        self.assertEqual([name for name, _ in lines], [f["name"] for f in formats])
        with open(os.path.join(HERE, "matrix_types.txt")) as f:
            fixture = [l.split() for l in f.read().splitlines() if l.strip()]
        for pair in fixture:
            self.assertIn(pair, lines, "matrix_types.txt no longer matches ptsim_format_types")
        sys.path.insert(0, os.path.join(ARGS.source, "tools"))
        import coverage_matrix
        names = coverage_matrix.demangle(coverage_matrix.find_demangler(), ["_ZTS" + t for _, t in lines])
        for _, t in lines:
            self.assertTrue(names["_ZTS" + t].startswith("typeinfo name for ptsim::"), names["_ZTS" + t])

    def test_script_help(self):
        r = run("bash", os.path.join(ARGS.source, "tools", "coverage.sh"), "--help")
        self.assertIn("Usage: tools/coverage.sh", r.stdout)
        for option in ("--out DIR", "--json", "--no-build", "--all-code"):
            self.assertIn(option, r.stdout)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--source", required=True)
    ap.add_argument("--ptsim", required=True)
    ap.add_argument("--format-types", required=True)
    ARGS, rest = ap.parse_known_args()
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
