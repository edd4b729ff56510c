"""`parley policy lint|test|explain` on temporary policy folders and on
the shipped policies: exit codes, positions, JSON output, diffs."""
import json
import os
import shutil
import tempfile
import unittest

from harness import SOURCE_ROOT, run

POLICIES = os.path.join(SOURCE_ROOT, "policies")


class PolicyCli(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="parley-policies-")

    def tearDown(self):
        shutil.rmtree(self.dir)

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def test_shipped_policies_lint_clean(self):
        r = run("policy", "lint", POLICIES)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"^\d+ policies OK\n$")

    def test_lint_reports_every_error_with_position(self):
        self.write("default.yaml", "locale: default\n")
        bad = self.write("ja-JP.yaml",
                         "locale: ja-JP\n"
                         "register:\n"
                         "  formality: formall\n"
                         "rules:\n"
                         "  - id: r\n"
                         "    when: {regex: ['(unclosed']}\n"
                         "    then: {tag: [x]}\n"
                         "  - id: r\n"
                         "    then: {tag: [y]}\n")
        r = run("policy", "lint", self.dir)
        self.assertEqual(r.returncode, 2)
        lines = r.stderr.splitlines()
        self.assertIn(f"{bad}:3:14: error: 'formality' must be one of formal, "
                      "informal, neutral, got 'formall'; did you mean 'formal'?",
                      lines)
        self.assertIn(f"{bad}:8:9: error: duplicate rule id 'r' (first defined "
                      "at line 5)", lines)
        self.assertTrue(any(l.startswith(f"{bad}:6:") and
                            "U_REGEX_MISMATCHED_PAREN" in l for l in lines), lines)
        self.assertEqual(lines[-1], "3 error(s), 0 warning(s)")

    def test_lint_one_file_uses_its_folder_for_parents(self):
        self.write("default.yaml", "locale: default\nrules: {id: broken}\n")
        self.write("zh-TW.yaml", "locale: zh-TW\n")
        hk = self.write("zh-HK.yaml", "locale: zh-HK\ninherits: zh-TW\n")
        r = run("policy", "lint", hk)
        self.assertEqual(r.returncode, 2)
        # default.yaml's own error is not reported, its effect on zh-HK is.
        self.assertNotIn("default.yaml", r.stderr)
        self.write("default.yaml", "locale: default\n")
        r = run("policy", "lint", hk)
        self.assertEqual((r.returncode, r.stdout), (0, "1 policy OK\n"), r.stderr)

    def test_lint_json(self):
        self.write("default.yaml",
                   "locale: default\n"
                   "rules:\n"
                   "  - {id: a, then: {tag: [x]}, stop: true}\n"
                   "  - {id: b, when: {terms: [y]}, then: {tag: [y]}}\n"
                   "  - {id: c, then: {escalate: {priority: meh}}}\n")
        r = run("policy", "lint", "--format", "json", self.dir)
        self.assertEqual(r.returncode, 2)
        out = json.loads(r.stdout)
        self.assertEqual(out["errors"], 1)
        d = out["diagnostics"][0]
        self.assertEqual((d["line"], d["column"], d["severity"]), (5, 41, "error"))
        self.assertIn("'priority' must be one of", d["message"])
        # Warnings alone do not fail lint.
        self.write("default.yaml",
                   "locale: default\n"
                   "rules:\n"
                   "  - {id: a, then: {tag: [x]}, stop: true}\n"
                   "  - {id: b, when: {terms: [y]}, then: {tag: [y]}}\n")
        r = run("policy", "lint", "--format", "json", self.dir)
        self.assertEqual(r.returncode, 0, r.stdout)
        out = json.loads(r.stdout)
        self.assertEqual(out["warnings"], 1)
        self.assertEqual(out["diagnostics"][0]["severity"], "warning")
        self.assertIn("unreachable", out["diagnostics"][0]["message"])

    def test_test_prints_pass_fail_and_diff(self):
        self.write("default.yaml",
                   "locale: default\n"
                   "rules:\n"
                   "  - {id: refund, when: {terms: [refund]}, then: {tag: [refund]}}\n"
                   "fixes:\n"
                   "  - {id: cheers, find: [cheers], replace: thank you}\n")
        cases = self.write("tests/default.yaml",
                           "cases:\n"
                           "  - name: good\n"
                           "    locale: en\n"
                           "    input: I want a refund\n"
                           "    expect: {actions: ['tag:refund']}\n"
                           "  - name: bad\n"
                           "    locale: en\n"
                           "    direction: out\n"
                           "    input: cheers\n"
                           "    expect: {text: cheers!, actions: [escalate]}\n")
        r = run("policy", "test", self.dir)
        self.assertEqual(r.returncode, 1)
        self.assertIn("PASS en: good\n", r.stdout)
        self.assertIn(f"FAIL en: bad ({cases}:6)\n"
                      "    actions:\n"
                      "      - escalate\n"
                      "    text:\n"
                      "      - cheers!\n"
                      "      + thank you\n", r.stdout)
        self.assertTrue(r.stdout.endswith("1 passed, 1 failed\n"))
        # One case file on its own finds its policies one folder up.
        r = run("policy", "test", cases)
        self.assertEqual(r.returncode, 1)
        self.assertTrue(r.stdout.endswith("1 passed, 1 failed\n"))

    def test_test_reports_invalid_case_files(self):
        self.write("default.yaml", "locale: default\n")
        cases = self.write("tests/x.yaml",
                           "cases:\n  - name: n\n    locale: en\n    inptu: x\n"
                           "    expect: {}\n")
        r = run("policy", "test", self.dir)
        self.assertEqual(r.returncode, 2)
        self.assertIn(f"{cases}:4:5: error: unknown key 'inptu' in a test case; "
                      "did you mean 'input'?", r.stderr)

    def test_explain_seed_cases(self):
        r = run("policy", "explain", "--policies", POLICIES, "--locale", "ar-SA",
                "هل عندكم ملابس سباحة؟")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("chain: ar-SA -> ar -> default\n", r.stdout)
        self.assertIn("swimwear-private (", r.stdout)
        self.assertIn('why: term "ملابس سباحة" at 16..37', r.stdout)
        self.assertIn("redirect channel=private", r.stdout)
        self.assertIn("  number 1234567.89: ١٬٢٣٤٬٥٦٧٫٨٩\n", r.stdout)

        r = run("policy", "explain", "--policies", POLICIES, "-l", "zh-CN",
                "你们总是这样")
        self.assertIn('absolute word "总是" at 6..12', r.stdout)
        self.assertIn("escalate priority=high", r.stdout)
        self.assertIn("安抚情绪", r.stdout)

        r = run("policy", "explain", "--policies", POLICIES, "-l", "ja-JP",
                "ねえ、まだ届かないんだけど")
        self.assertIn("rules fired: none\n", r.stdout)
        self.assertIn("  address: keigo\n", r.stdout)
        self.assertIn("  honorific_customer: sonkeigo\n", r.stdout)

    def test_explain_outbound_fixes_and_stdin(self):
        r = run("policy", "explain", "--policies", POLICIES, "-l", "zh-TW",
                "--direction", "out", "-", stdin="请更新软件 #A-10293\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("fix software: replaced [9,15)\n", r.stdout)
        self.assertIn("text: 请更新軟體 #A-10293\n", r.stdout)
        self.assertIn('protected: "#A-10293"', r.stdout)

    def test_usage_errors_exit_2(self):
        for args in (["policy"], ["policy", "frobnicate"],
                     ["policy", "lint", "--bogus"],
                     ["policy", "lint", "--format", "xml"],
                     ["policy", "test", "--bogus"],
                     ["policy", "explain", "hello"],
                     ["policy", "explain", "-l", "en", "-d", "sideways", "x"],
                     ["policy", "explain", "-l", "en", "--bogus", "x"],
                     ["policy", "lint", os.path.join(self.dir, "missing")]):
            r = run(*args)
            self.assertEqual(r.returncode, 2, args)
            self.assertIn("parley", r.stderr + r.stdout)

    def test_help(self):
        r = run("help", "policy")
        self.assertEqual(r.returncode, 0)
        self.assertIn("parley policy lint", r.stdout)


if __name__ == "__main__":
    unittest.main()
