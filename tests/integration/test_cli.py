"""The `parley` command line: help, version, dispatch and exit codes."""
import unittest

from harness import run


class HelpAndVersion(unittest.TestCase):
    def test_help_lists_subcommands(self):
        r = run("--help")
        self.assertEqual(r.returncode, 0, r.stderr)
        for cmd in ("serve", "config", "help"):
            self.assertRegex(r.stdout, rf"(?m)^  {cmd} +\S")
        self.assertIn("Exit status", r.stdout)

    def test_version(self):
        r = run("--version")
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"^parley \d+\.\d+\.\d+\n$")

    def test_help_command_shows_usage(self):
        r = run("help", "config")
        self.assertEqual(r.returncode, 0)
        self.assertIn("usage: parley config check [-c FILE]", r.stdout)
        self.assertIn("--config FILE", r.stdout)

    def test_subcommand_help_flag(self):
        r = run("serve", "--help")
        self.assertEqual(r.returncode, 0)
        self.assertIn("usage: parley serve [-c FILE]", r.stdout)


class UsageErrors(unittest.TestCase):
    def assertUsage(self, r, message):
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn(message, r.stderr)
        self.assertIn("usage: parley", r.stderr)
        self.assertEqual(r.stdout, "")

    def test_no_command(self):
        self.assertUsage(run(), "missing command")

    def test_unknown_command(self):
        self.assertUsage(run("frobnicate"), "unknown command 'frobnicate'")

    def test_unknown_command_hint(self):
        r = run("serv")
        self.assertUsage(r, "did you mean 'serve'?")

    def test_unknown_global_flag(self):
        self.assertUsage(run("--bogus"), "unknown option '--bogus'")

    def test_unknown_subcommand_flag(self):
        r = run("config", "check", "--bogus")
        self.assertUsage(r, "unknown option '--bogus'")
        self.assertIn("parley help config", r.stderr)

    def test_unknown_short_flag(self):
        self.assertUsage(run("serve", "-x"), "unknown option '-x'")

    def test_missing_option_value(self):
        self.assertUsage(run("serve", "-c"), "option '-c' needs a value")
        self.assertUsage(run("config", "check", "--config"),
                         "option '--config' needs a value")

    def test_unexpected_argument(self):
        self.assertUsage(run("serve", "extra"), "unexpected argument 'extra'")

    def test_unknown_config_subcommand(self):
        self.assertUsage(run("config", "chek"), "unknown subcommand 'chek'")

    def test_help_unknown_command(self):
        self.assertUsage(run("help", "nope"), "unknown command 'nope'")


if __name__ == "__main__":
    unittest.main()
