#!/usr/bin/env python3
"""Checks the ClusterFuzzLite files without GitHub or Docker: the workflows under
.github/workflows/cflite_*.yml and .clusterfuzzlite/{project.yaml,Dockerfile,build.sh}.

    cflite_files_test.py --source DIR

Workflows: each parses, has the trigger its mode needs (code-change on pull_request; batch,
prune and coverage on a schedule; continuous builds on push), and each job checks the repository
out before ClusterFuzzLite's build_fuzzers@v1 (the actions read project.yaml from the checkout)
and runs run_fuzzers@v1 with the inputs the actions document: language c++, a mode, the same
sanitizer as the build, a positive fuzz-seconds and the GitHub token. Inputs are checked against
the names the two actions accept, so a misspelt one fails here instead of being ignored.
project.yaml says language c++ and the same base_os_version as the Dockerfile's image tag; the
Dockerfile's packages are ones tools/bootstrap.sh installs; build.sh writes no -fsanitize= flag
of its own.
"""
import argparse
import os
import re
import sys
import unittest

try:
    import yaml
except ImportError:
    sys.exit("cflite_files_test: Python's yaml module is missing (Debian package python3-yaml; "
             "tools/bootstrap.sh installs it)")

ARGS = None

BUILD_ACTION = "google/clusterfuzzlite/actions/build_fuzzers@v1"
RUN_ACTION = "google/clusterfuzzlite/actions/run_fuzzers@v1"
# The inputs of the two actions (their action.yml, and output-sarif from the run action's docs).
BUILD_INPUTS = {"language", "dry-run", "allowed-broken-targets-percentage", "sanitizer",
                "project-src-path", "bad-build-check", "storage-repo", "storage-repo-branch",
                "storage-repo-branch-coverage", "upload-build", "github-token"}
RUN_INPUTS = {"language", "fuzz-seconds", "dry-run", "sanitizer", "mode", "github-token",
              "storage-repo", "storage-repo-branch", "storage-repo-branch-coverage",
              "report-unreproducible-crashes", "output-sarif"}
SANITIZERS = {"address", "undefined", "memory", "coverage"}
# Mode -> the events a workflow running it may be triggered by.
MODE_TRIGGERS = {
    "code-change": {"pull_request"},
    "batch": {"schedule", "workflow_dispatch"},
    "prune": {"schedule", "workflow_dispatch"},
    "coverage": {"schedule", "workflow_dispatch"},
}
# The workflow set: file -> the modes its jobs run (None: builds only).
WORKFLOWS = {
    "cflite_pr.yml": {"code-change"},
    "cflite_batch.yml": {"batch"},
    "cflite_cron.yml": {"prune", "coverage"},
    "cflite_build.yml": None,
}


def load(path):
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def triggers(workflow):
    # YAML 1.1 reads the key `on` as the boolean true.
    on = workflow.get("on", workflow.get(True))
    if isinstance(on, str):
        return {on}
    if isinstance(on, list):
        return set(on)
    if isinstance(on, dict):
        return set(on)
    return set()


def resolve(value, job):
    """A `${{ matrix.X }}` value, as the set of values the job's matrix gives it."""
    m = re.fullmatch(r"\$\{\{\s*matrix\.([A-Za-z_-]+)\s*\}\}", str(value))
    if not m:
        return {value}
    values = job.get("strategy", {}).get("matrix", {}).get(m.group(1))
    return set(values) if isinstance(values, list) else set()


class Workflows(unittest.TestCase):
    def setUp(self):
        self.dir = os.path.join(ARGS.source, ".github", "workflows")

    def test_the_set_is_there(self):
        present = {f for f in os.listdir(self.dir) if f.startswith("cflite_")}
        self.assertEqual(present, set(WORKFLOWS))

    def test_each_workflow(self):
        for name, modes in WORKFLOWS.items():
            with self.subTest(workflow=name):
                wf = load(os.path.join(self.dir, name))
                self.assertIsInstance(wf.get("name"), str)
                events = triggers(wf)
                self.assertTrue(events, "no `on:` triggers")
                found = set()
                for job_name, job in wf["jobs"].items():
                    found |= self.check_job(name, job_name, job, events)
                self.assertEqual(found, modes or set())

    def check_job(self, wf_name, job_name, job, events):
        where = f"{wf_name}: job {job_name}"
        steps = job.get("steps", [])
        uses = [s.get("uses", "") for s in steps]
        self.assertIn(BUILD_ACTION, uses, f"{where}: no build_fuzzers step")
        build_at = uses.index(BUILD_ACTION)
        checkout = [i for i, u in enumerate(uses) if u.startswith("actions/checkout@")]
        self.assertTrue(checkout and checkout[0] < build_at, f"{where}: no checkout before the build")
        build = steps[build_at].get("with", {})
        self.assertLessEqual(set(build), BUILD_INPUTS, f"{where}: unknown build_fuzzers inputs")
        self.assertEqual(build.get("language"), "c++", f"{where}: build language")
        build_sanitizers = resolve(build.get("sanitizer", "address"), job)
        self.assertTrue(build_sanitizers and build_sanitizers <= SANITIZERS, f"{where}: build sanitizer")

        runs = [s.get("with", {}) for s in steps if s.get("uses") == RUN_ACTION]
        if not runs:
            self.assertIs(WORKFLOWS[wf_name], None, f"{where}: no run_fuzzers step")
            self.assertIn(build.get("upload-build"), (True, "true"), f"{where}: a build-only job uploads")
            self.assertIn("push", events, f"{where}: continuous builds run on push")
            return set()
        self.assertEqual(len(runs), 1, f"{where}: one run_fuzzers step")
        run = runs[0]
        self.assertLessEqual(set(run), RUN_INPUTS, f"{where}: unknown run_fuzzers inputs")
        mode = run.get("mode")
        self.assertIn(mode, MODE_TRIGGERS, f"{where}: mode")
        self.assertTrue(events <= MODE_TRIGGERS[mode] and events & MODE_TRIGGERS[mode] - {"workflow_dispatch"},
                        f"{where}: mode {mode} with triggers {sorted(events)}")
        self.assertEqual(run.get("sanitizer"), build.get("sanitizer"), f"{where}: run and build sanitizers differ")
        self.assertEqual(build_sanitizers == {"coverage"}, mode == "coverage",
                         f"{where}: coverage mode goes with the coverage sanitizer, and only it")
        seconds = run.get("fuzz-seconds")
        self.assertTrue(isinstance(seconds, int) and seconds > 0, f"{where}: fuzz-seconds {seconds!r}")
        self.assertEqual(run.get("github-token"), "${{ secrets.GITHUB_TOKEN }}", f"{where}: github-token")
        if run.get("output-sarif") in (True, "true"):
            perms = job.get("permissions", {})
            self.assertEqual(perms.get("security-events"), "write", f"{where}: SARIF upload needs security-events: write")
        return {mode}


class ProjectFiles(unittest.TestCase):
    def setUp(self):
        self.dir = os.path.join(ARGS.source, ".clusterfuzzlite")

    def read(self, name):
        with open(os.path.join(self.dir, name), encoding="utf-8") as f:
            return f.read()

    def test_project_yaml(self):
        project = load(os.path.join(self.dir, "project.yaml"))
        self.assertEqual(project.get("language"), "c++")

    def test_dockerfile_image_matches_project_yaml(self):
        project = load(os.path.join(self.dir, "project.yaml"))
        froms = re.findall(r"^FROM\s+(\S+)", self.read("Dockerfile"), re.M)
        self.assertEqual(len(froms), 1)
        image, _, tag = froms[0].partition(":")
        self.assertEqual(image, "gcr.io/oss-fuzz-base/base-builder")
        # No base_os_version means the legacy image, whose tag is empty or a version like v1.
        self.assertEqual(project.get("base_os_version"), tag if tag.startswith("ubuntu") else None)

    def test_dockerfile_packages_are_bootstraps(self):
        with open(os.path.join(ARGS.source, "tools", "bootstrap.sh"), encoding="utf-8") as f:
            bootstrap = f.read()
        block = re.search(r"^PTSIM_PACKAGES=\((.*?)^\)", bootstrap, re.M | re.S).group(1)
        known = set(re.findall(r"[a-z0-9][a-z0-9+.-]+", re.sub(r"#.*", "", block)))
        text = self.read("Dockerfile").replace("\\\n", " ")
        installs = re.findall(r"apt-get install ([^&\n]*)", text)
        self.assertTrue(installs, "no apt-get install in the Dockerfile")
        packages = {w for line in installs for w in line.split() if not w.startswith("-")}
        self.assertLessEqual(packages, known, "Dockerfile packages missing from tools/bootstrap.sh")

    def test_build_sh_uses_the_contract(self):
        lines = [l for l in self.read("build.sh").splitlines() if not l.lstrip().startswith("#")]
        code = "\n".join(lines)
        self.assertNotIn("-fsanitize", code, "build.sh must take sanitizers from CFLAGS/CXXFLAGS")
        for var in ("$SRC", "$WORK", "$OUT", "$LIB_FUZZING_ENGINE"):
            self.assertIn(var, code)
        self.assertTrue(os.access(os.path.join(self.dir, "build.sh"), os.X_OK), "build.sh is not executable")


def main():
    global ARGS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", required=True, help="the repository root")
    ARGS, rest = parser.parse_known_args()
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


if __name__ == "__main__":
    main()
