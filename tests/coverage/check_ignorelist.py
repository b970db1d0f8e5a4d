#!/usr/bin/env python3
"""Checks that coverage instrumentation follows fuzz/coverage_ignorelist.txt in a compiled file.

    check_ignorelist.py FILE --ignored REGEX... --instrumented REGEX...

FILE is an object file or a linked fuzz target built with the libFuzzer flags. Functions are
found in `objdump -dr -C` by their demangled names (REGEX is searched in the whole name, return
type included). Every function matching an --ignored pattern must have no reference to the
coverage runtime (calls to __sanitizer_cov_*, the __sancov_* counters and tables), and each such
pattern must match at least one function, so a renamed function cannot make the check pass by
matching nothing. Each --instrumented pattern must match at least one function that does have
such a reference: the control that the file was instrumented at all.

In an object file only relocations name their targets (objdump labels an unresolved call with
whatever symbol is nearest), so there only relocation lines are counted.
"""
import argparse
import re
import subprocess
import sys

FUNC = re.compile(r"^[0-9a-f]+ <(.*)>:$")
RELOC = re.compile(r"R_X86_64_\S+\s+(__sanitizer_cov|__sancov)")
INSN = re.compile(r"<(__sanitizer_cov\w*|__sancov_\S*?)(\+0x[0-9a-f]+)?>")


def coverage_refs(path):
    header = subprocess.run(["objdump", "-f", path], check=True, capture_output=True, text=True).stdout
    linked = "EXEC_P" in header or "DYNAMIC" in header
    dump = subprocess.run(["objdump", "-dr", "-C", "--no-show-raw-insn", path], check=True, capture_output=True,
                          text=True).stdout
    refs = {}
    name = None
    for line in dump.splitlines():
        m = FUNC.match(line)
        if m:
            name = m.group(1)
            refs.setdefault(name, 0)
            continue
        if name is None:
            continue
        if RELOC.search(line) or (linked and "R_X86_64" not in line and INSN.search(line)):
            refs[name] += 1
    return refs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--ignored", action="append", default=[])
    ap.add_argument("--instrumented", action="append", default=[])
    args = ap.parse_args()
    refs = coverage_refs(args.file)
    failures = []
    for pattern in args.ignored:
        hits = {n: c for n, c in refs.items() if re.search(pattern, n)}
        if not hits:
            failures.append(f"--ignored {pattern!r} matches no function in {args.file}")
        for n, c in sorted(hits.items()):
            if c:
                failures.append(f"{n}: {c} references to the coverage runtime, but {pattern!r} is ignored")
        print(f"ignored      {pattern!r}: {len(hits)} functions, {sum(1 for c in hits.values() if c)} instrumented")
    for pattern in args.instrumented:
        hits = {n: c for n, c in refs.items() if re.search(pattern, n)}
        instrumented = sum(1 for c in hits.values() if c)
        if not instrumented:
            failures.append(f"--instrumented {pattern!r}: none of {len(hits)} matching functions is instrumented")
        print(f"instrumented {pattern!r}: {len(hits)} functions, {instrumented} instrumented")
    for f in failures:
        print("FAIL:", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
