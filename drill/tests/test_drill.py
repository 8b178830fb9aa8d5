#!/usr/bin/env python3
"""Self-test of the breakage drill runner (drill/drill.py), on a throwaway git repository.

Each verdict the runner can give is produced for real: a caught breakage, one that survives, one caught for
the wrong reason, a stale edit, a timeout, a target that fails before anything is planted, catalogue errors
and an empty selection. Run by `make test-breakages` before the drill itself. Standard library plus PyYAML.
"""
from __future__ import annotations

import contextlib
import fcntl
import io
import json
import subprocess
import sys
import tempfile
import textwrap
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import drill  # noqa: E402

CHECK = textwrap.dedent("""\
    # The fixture's "test": the documented limit must be 50, and a slow mode that takes too long.
    grep -q '^max_lines = 50$' limits.conf || { echo "limit check: max_lines is not 50"; exit 1; }
    if grep -q slow notes.txt; then sleep 30; fi
    """)


def entry(eid: str, file: str, find: str, replace: str, expect: str, **extra) -> dict:
    e = {"id": eid, "claim": f"fixture claim {eid}", "edits": [{"file": file, "find": find, "replace": replace}],
         "target": "bash check.sh", "expect": expect, "tier": "quick"}
    e.update(extra)
    return e


class DrillTest(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory()
        self.root = Path(self._tmp.name)
        (self.root / "limits.conf").write_text("max_lines = 50\n")
        (self.root / "notes.txt").write_text("nothing to see\n")
        (self.root / "check.sh").write_text(CHECK)
        (self.root / ".gitignore").write_text("target/\n")
        (self.root / "drill" / "catalogue").mkdir(parents=True)
        subprocess.run(["git", "init", "-q"], cwd=self.root, check=True)
        self.originals = {p.name: p.read_bytes() for p in self.root.iterdir() if p.is_file()}

    def tearDown(self):
        self._tmp.cleanup()

    def catalogue(self, entries: list[dict], name: str = "fixture.yaml") -> Path:
        path = self.root / "drill" / "catalogue" / name
        path.write_text(json.dumps(entries))  # JSON is YAML
        return path

    def drill(self, *args: str) -> tuple[int, str]:
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            code = drill.main(["--root", str(self.root), *args])
        return code, out.getvalue()

    def statuses(self) -> dict[str, str]:
        summary = json.loads((self.root / "target" / "drill" / "summary.json").read_text())
        return {r["id"]: r["status"] for r in summary["results"]}

    def assert_repo_untouched(self):
        for name, data in self.originals.items():
            self.assertEqual((self.root / name).read_bytes(), data, f"the drill changed {name} in the repository")
        self.assertFalse((self.root / "target" / "drill" / "scratch").exists(), "scratch copy left behind")

    def test_a_caught_breakage_passes_the_drill(self):
        self.catalogue([entry("limit-raised", "limits.conf", "50", "51", "max_lines is not 50")])
        code, out = self.drill()
        self.assertEqual(code, 0, out)
        self.assertEqual(self.statuses(), {"limit-raised": "caught"})
        self.assert_repo_untouched()

    def test_every_other_verdict_fails_the_drill(self):
        self.catalogue([
            entry("limit-raised", "limits.conf", "50", "51", "max_lines is not 50"),
            entry("harmless-edit", "notes.txt", "nothing", "something", "anything"),
            entry("wrong-reason", "limits.conf", "50", "49", "disk full"),
            entry("moved-away", "limits.conf", "max_lines = 60", "max_lines = 61", "max_lines"),
            entry("slow-mode", "notes.txt", "nothing", "slow", "never", timeout=1),
        ])
        code, out = self.drill()
        self.assertEqual(code, 1, out)
        self.assertEqual(self.statuses(), {"limit-raised": "caught", "harmless-edit": "SURVIVED",
                                           "wrong-reason": "WRONG-REASON", "moved-away": "STALE",
                                           "slow-mode": "TIMEOUT"})
        self.assertIn("1 of 5 breakages caught", out)
        self.assert_repo_untouched()

    def test_an_edit_must_match_its_count_exactly(self):
        (self.root / "notes.txt").write_text("x x\n")
        self.catalogue([entry("one-of-two", "notes.txt", "x", "y", "never")])
        code, out = self.drill()
        self.assertEqual(code, 1, out)
        self.assertEqual(self.statuses(), {"one-of-two": "STALE"})

    def test_a_target_failing_before_any_breakage_fails_the_drill(self):
        (self.root / "limits.conf").write_text("max_lines = 40\n")
        self.catalogue([entry("limit-raised", "limits.conf", "40", "41", "max_lines is not 50")])
        code, out = self.drill()
        self.assertEqual(code, 1, out)
        self.assertIn("fail on the unmodified copy", out)
        self.assertFalse((self.root / "target" / "drill" / "summary.json").exists())

    def test_catalogue_errors_are_refused(self):
        bad = [
            [dict(entry("x", "limits.conf", "50", "51", "y"), colour="red")],  # unknown key
            [entry("x", "limits.conf", "50", "50", "y")],  # replace == find
            [entry("Not_Kebab", "limits.conf", "50", "51", "y")],
            [entry("x", "limits.conf", "50", "51", "y", tier="medium")],
            [entry("x", "limits.conf", "50", "51", "(")],  # bad regex
            [],
        ]
        for entries in bad:
            with self.subTest(entries=entries):
                path = self.catalogue(entries)
                code, out = self.drill("--catalogue", str(path))
                self.assertEqual(code, 2, out)
                self.assertIn("drill: error:", out)

    def test_an_id_may_appear_only_once_across_catalogues(self):
        self.catalogue([entry("limit-raised", "limits.conf", "50", "51", "max_lines")], "a.yaml")
        self.catalogue([entry("limit-raised", "limits.conf", "50", "52", "max_lines")], "b.yaml")
        code, out = self.drill()
        self.assertEqual(code, 2, out)
        self.assertIn("appears in a.yaml and b.yaml", out)

    def test_a_selection_of_nothing_is_an_error(self):
        self.catalogue([entry("limit-raised", "limits.conf", "50", "51", "max_lines", tier="slow")])
        code, out = self.drill("--tier", "quick")
        self.assertEqual(code, 2, out)
        self.assertIn("holds no entry", out)
        code, out = self.drill("--only", "no-such-entry")
        self.assertEqual(code, 2, out)

    def test_the_readme_must_state_the_catalogue_size(self):
        self.catalogue([entry("limit-raised", "limits.conf", "50", "51", "max_lines", tier="slow"),
                        entry("harmless-edit", "notes.txt", "nothing", "something", "anything")])
        readme = self.root / "README.md"
        for stated, want in (("2 breakages: 1 quick and 1 slow", 0), ("3 breakages: 2 quick and 1 slow", 1),
                             ("2 breakages: 2 quick and 0 slow", 1)):
            readme.write_text(f"The catalogue holds\n<!-- drill-count -->{stated}<!-- /drill-count -->.\n")
            code, out = self.drill("--check-readme", str(readme))
            self.assertEqual(code, want, f"{stated}: {out}")
        self.assertIn("the catalogue holds 2 (1 quick, 1 slow)", out)
        ok = "<!-- drill-count -->2 breakages: 1 quick and 1 slow<!-- /drill-count -->\n"
        readme.write_text(ok + "| a claim | a test | [f](drill/catalogue/f.yaml) `limit-*`, `harmless-edit` |\n")
        code, out = self.drill("--check-readme", str(readme))
        self.assertEqual(code, 0, out)
        readme.write_text(ok + "| a claim | a test | [f](drill/catalogue/f.yaml) `limit-raised`, `gone-entry` |\n")
        code, out = self.drill("--check-readme", str(readme))
        self.assertEqual(code, 1, out)
        self.assertIn("names drill entry gone-entry, which no catalogue holds", out)
        readme.write_text("no statement at all\n")
        code, out = self.drill("--check-readme", str(readme))
        self.assertEqual(code, 1, out)
        self.assertIn("no '<!-- drill-count -->", out)

    def test_only_runs_one_entry_whatever_its_tier(self):
        self.catalogue([entry("limit-raised", "limits.conf", "50", "51", "max_lines", tier="slow"),
                        entry("harmless-edit", "notes.txt", "nothing", "something", "anything")])
        code, out = self.drill("--only", "limit-raised")
        self.assertEqual(code, 0, out)
        self.assertEqual(self.statuses(), {"limit-raised": "caught"})

    def test_targets_see_a_git_repository_of_the_working_tree(self):
        (self.root / "untracked.txt").write_text("new file, not yet committed\n")
        self.catalogue([{"id": "lost-file", "claim": "untracked files reach the scratch copy",
                         "edits": [{"file": "untracked.txt", "find": "new file", "replace": "gone"}],
                         "target": "git ls-files --error-unmatch untracked.txt && grep -q 'new file' untracked.txt"
                                   " || { echo 'untracked.txt changed'; exit 1; }",
                         "expect": "untracked.txt changed", "tier": "quick"}])
        code, out = self.drill()
        self.assertEqual(code, 0, out)

    def test_an_install_in_the_scratch_copy_leaves_the_repositorys_packages_alone(self):
        # A target that reinstalls its npm packages (npm ci empties node_modules first) must do so in a copy.
        (self.root / ".gitignore").write_text("target/\nnode_modules/\n")  # as in the repository: never committed
        installed = self.root / "tools" / "node_modules"
        installed.mkdir(parents=True)
        (self.root / "tools" / "package.json").write_text("{}\n")
        (installed / "pkg.js").write_text("installed\n")
        self.catalogue([{"id": "reinstall", "claim": "a target may reinstall its packages",
                         "edits": [{"file": "notes.txt", "find": "nothing", "replace": "something"}],
                         "target": "rm -rf tools/node_modules/* && mkdir -p tools/node_modules/fresh"
                                   " && ! grep -q something notes.txt || { echo 'notes changed'; exit 1; }",
                         "expect": "notes changed", "tier": "quick"}])
        code, out = self.drill("--keep")
        self.assertEqual(code, 0, out)
        self.assertTrue((self.root / "target/drill/scratch/tools/node_modules/fresh").is_dir(), "no install in the copy")
        self.assertEqual((installed / "pkg.js").read_text(), "installed\n", "the scratch copy's install emptied the repository's")
        self.assertFalse((installed / "fresh").exists())

    def test_a_second_run_in_the_same_tree_is_refused(self):
        self.catalogue([entry("limit-raised", "limits.conf", "50", "51", "max_lines is not 50")])
        work = self.root / "target" / "drill"
        work.mkdir(parents=True)
        with open(work / ".lock", "w") as held:
            fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
            code, out = self.drill()
        self.assertEqual(code, 2, out)
        self.assertIn("another drill run is using", out)

    def test_two_jobs_give_the_verdicts_of_one_in_catalogue_order(self):
        (self.root / "other.sh").write_text("grep -q '^colour = blue$' limits.conf || { echo 'colour is not blue'; exit 1; }\n")
        (self.root / "limits.conf").write_text("max_lines = 50\ncolour = blue\n")
        self.catalogue([entry("limit-raised", "limits.conf", "50", "51", "max_lines is not 50"),
                        entry("colour-changed", "limits.conf", "blue", "red", "colour is not blue", target="bash other.sh"),
                        entry("harmless-edit", "notes.txt", "nothing", "something", "anything"),
                        entry("limit-lowered", "limits.conf", "50", "49", "max_lines is not 50")])
        code, out = self.drill("--jobs", "2")
        self.assertEqual(code, 1, out)
        summary = json.loads((self.root / "target" / "drill" / "summary.json").read_text())
        self.assertEqual([(r["id"], r["status"]) for r in summary["results"]],
                         [("limit-raised", "caught"), ("colour-changed", "caught"), ("harmless-edit", "SURVIVED"),
                          ("limit-lowered", "caught")])
        self.assertFalse((self.root / "target" / "drill" / "scratch-2").exists(), "second scratch copy left behind")


if __name__ == "__main__":
    unittest.main(verbosity=2)
