"""`parley serve`: start, readiness, clean stop on SIGINT/SIGTERM, reload."""
import os
import signal
import unittest

from harness import SOURCE_ROOT, Server, run, write_temp

EXAMPLE = os.path.join(SOURCE_ROOT, "docs", "examples", "parley.yaml")


class Lifecycle(unittest.TestCase):
    def start(self, path, **kw):
        s = Server(path, **kw)
        self.addCleanup(s.stop)
        return s

    def test_example_starts_and_stops_on_sigint(self):
        s = self.start(EXAMPLE)
        s.wait_ready()
        s.signal(signal.SIGINT)
        self.assertEqual(s.wait_exit(), 0)
        self.assertTrue(any("received SIGINT" in l for l in s.seen), s.seen)
        self.assertIn("stopped", s.seen[-1])

    def test_example_with_the_run_commands_environment(self):
        # `make run` sets PARLEY_TRANSLATE_FIRST to "" when no LLM is
        # configured; the example must then fall back to Apertium.
        s = self.start(EXAMPLE, env={"PARLEY_TRANSLATE_FIRST": "",
                                     "PARLEY_LLM_URL": ""})
        s.wait_ready()
        s.signal(signal.SIGINT)
        self.assertEqual(s.wait_exit(), 0)

    def test_stops_on_sigterm(self):
        s = self.start(EXAMPLE, env={"PARLEY_WORKERS": "3"})
        self.assertIn("ready with 3 worker(s)", s.wait_ready())
        s.signal(signal.SIGTERM)
        self.assertEqual(s.wait_exit(), 0)

    def test_invalid_config_exits_2_with_positions(self):
        path = write_temp("log:\n  level: loud\n")
        self.addCleanup(os.unlink, path)
        s = self.start(path)
        self.assertEqual(s.wait_exit(), 2)
        self.assertIn(f"{path}:2:10: 'level' must be one of", s.seen[0])

    def test_json_logs(self):
        path = write_temp("workers: 1\nlog:\n  format: json\n")
        self.addCleanup(os.unlink, path)
        s = self.start(path)
        line = s.wait_ready()
        self.assertRegex(line, r'^\{"ts":"[^"]+Z","level":"info",'
                               r'"msg":"ready with 1 worker\(s\)"')
        s.signal(signal.SIGINT)
        self.assertEqual(s.wait_exit(), 0)

    def test_sighup_rejects_bad_file_and_keeps_running(self):
        path = write_temp("workers: 1\n")
        self.addCleanup(os.unlink, path)
        s = self.start(path)
        s.wait_ready()
        with open(path, "w", encoding="utf-8") as f:
            f.write("workers: 1\nlgo: {}\n")
        s.signal(signal.SIGHUP)
        line = s.wait_line("reload rejected")
        self.assertIn(f"{path}:2:1: unknown key 'lgo' in the top level; "
                      "did you mean 'log'?", line)
        s.wait_line("keeping the running configuration")
        with open(path, "w", encoding="utf-8") as f:
            f.write("workers: 1\nlog: {level: debug}\n")
        s.signal(signal.SIGHUP)
        s.wait_line("configuration reloaded (generation 2)")
        s.signal(signal.SIGTERM)
        self.assertEqual(s.wait_exit(), 0)
        self.assertTrue(s.proc.returncode == 0)

    def test_check_and_serve_agree(self):
        # The checker loads files exactly as serve does.
        r = run("config", "check", "-c", EXAMPLE)
        self.assertEqual(r.returncode, 0)


if __name__ == "__main__":
    unittest.main()
