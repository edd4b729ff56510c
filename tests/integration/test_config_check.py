"""`parley config check`: OK for good files, every error with its position."""
import os
import unittest

from harness import SOURCE_ROOT, run, write_temp

EXAMPLE = os.path.join(SOURCE_ROOT, "docs", "examples", "parley.yaml")


class ConfigCheck(unittest.TestCase):
    def setUp(self):
        self.paths = []

    def tearDown(self):
        for p in self.paths:
            os.unlink(p)

    def temp(self, text):
        p = write_temp(text)
        self.paths.append(p)
        return p

    def test_example_is_ok(self):
        r = run("config", "check", "-c", EXAMPLE)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "configuration OK\n")

    def test_config_from_environment_variable(self):
        r = run("config", "check", env={"PARLEY_CONFIG": EXAMPLE})
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_every_error_with_position_and_hint(self):
        path = self.temp(
            "wrokers: 4\n"
            "log:\n"
            "  level: verbose\n"
            "  format: jsno\n"
            "  colour: true\n"
            "level: debug\n")
        r = run("config", "check", "-c", path)
        self.assertEqual(r.returncode, 2)
        self.assertEqual(r.stdout, "")
        lines = r.stderr.splitlines()
        self.assertEqual(lines, [
            f"{path}:1:1: unknown key 'wrokers' in the top level; "
            "did you mean 'workers'?",
            f"{path}:3:10: 'level' must be one of error, warn, info, debug, "
            "trace, got 'verbose'",
            f"{path}:4:11: 'format' must be one of text, json, got 'jsno'; "
            "did you mean 'json'?",
            f"{path}:5:3: unknown key 'colour' in 'log'",
            f"{path}:6:1: 'level' is not allowed in the top level; "
            "it belongs in 'log'",
        ])

    def test_range_error(self):
        path = self.temp("workers: 100000\n")
        r = run("config", "check", "-c", path)
        self.assertEqual(r.returncode, 2)
        self.assertIn(f"{path}:1:10: 'workers' must be between 0 and 256, "
                      "got '100000'", r.stderr)

    def test_yaml_syntax_error_position(self):
        path = self.temp("workers: 2\nlog: {level: info\n")
        r = run("config", "check", "-c", path)
        self.assertEqual(r.returncode, 2)
        self.assertRegex(r.stderr, rf"^{path}:3:1: YAML \w+ error: ")

    def test_duplicate_key(self):
        path = self.temp("workers: 2\nworkers: 3\n")
        r = run("config", "check", "-c", path)
        self.assertEqual(r.returncode, 2)
        self.assertIn(f"{path}:2:1: duplicate key 'workers' (first set at "
                      "line 1)", r.stderr)

    def test_unset_environment_variable(self):
        path = self.temp("log:\n  level: ${PARLEY_TEST_NOT_SET}\n")
        env = dict(os.environ)
        env.pop("PARLEY_TEST_NOT_SET", None)
        r = run("config", "check", "-c", path)
        self.assertEqual(r.returncode, 2)
        self.assertIn(f"{path}:2:10: environment variable "
                      "'PARLEY_TEST_NOT_SET' is not set", r.stderr)

    def test_environment_default_and_value(self):
        path = self.temp("log:\n  level: ${PARLEY_TEST_LEVEL:-warn}\n")
        self.assertEqual(run("config", "check", "-c", path).returncode, 0)
        r = run("config", "check", "-c", path,
                env={"PARLEY_TEST_LEVEL": "loud"})
        self.assertEqual(r.returncode, 2)
        self.assertIn("got 'loud'", r.stderr)

    def test_missing_file(self):
        r = run("config", "check", "-c", "/nonexistent/parley.yaml")
        self.assertEqual(r.returncode, 2)
        self.assertIn("/nonexistent/parley.yaml: cannot open: "
                      "No such file or directory", r.stderr)

    def test_wrong_shape(self):
        path = self.temp("- just\n- a list\n")
        r = run("config", "check", "-c", path)
        self.assertEqual(r.returncode, 2)
        self.assertIn(f"{path}:1:1: the top level must be a mapping", r.stderr)

    def test_directives_are_documented(self):
        r = run("config", "directives")
        self.assertEqual(r.returncode, 0)
        with open(os.path.join(SOURCE_ROOT, "docs", "configuration.md"),
                  encoding="utf-8") as f:
            doc = f.read()
        paths = [line.split()[0] for line in r.stdout.splitlines()]
        self.assertIn("log.level", paths)
        missing = [p for p in paths if f"`{p}`" not in doc]
        self.assertEqual(missing, [], "directives missing from "
                         "docs/configuration.md")


if __name__ == "__main__":
    unittest.main()
