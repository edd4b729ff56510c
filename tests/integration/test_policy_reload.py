"""Hot reload of policies in `parley serve`: a change in the folder is
picked up, an edit with errors is rejected with every error and its
position while the running policies stay, SIGHUP reloads too, and an
invalid set stops the start."""
import os
import shutil
import signal
import tempfile
import unittest

from harness import Server, free_port, metric, wait_for_port

GOOD = "locale: default\nrules:\n  - {id: a, then: {tag: [x]}}\n"


class PolicyReload(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="parley-reload-")
        self.policies = os.path.join(self.dir, "policies")
        os.mkdir(self.policies)
        self.write("default.yaml", GOOD)
        self.config = os.path.join(self.dir, "parley.yaml")
        with open(self.config, "w", encoding="utf-8") as f:
            f.write("workers: 1\npolicies:\n  dir: policies\n")

    def tearDown(self):
        shutil.rmtree(self.dir)

    def write(self, name, text):
        # Write then rename, as editors do, so the server never reads half a file.
        tmp = os.path.join(self.policies, "." + name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.rename(tmp, os.path.join(self.policies, name))

    def start(self):
        s = Server(self.config)
        self.addCleanup(s.stop)
        s.wait_line("watching policies in")
        s.wait_ready()
        return s

    def test_change_in_folder_reloads(self):
        s = self.start()
        self.write("ja-JP.yaml", "locale: ja-JP\nregister: {formality: formal}\n")
        self.assertIn("(2 policies)", s.wait_line("policies loaded"))
        s.wait_line("configuration reloaded")
        s.signal(signal.SIGTERM)
        self.assertEqual(s.wait_exit(), 0)

    def test_edit_with_errors_keeps_running_policies(self):
        admin = free_port()
        with open(self.config, "a", encoding="utf-8") as f:
            f.write(f"admin:\n  address: 127.0.0.1:{admin}\n")
        s = self.start()
        wait_for_port(admin)
        base = f"http://127.0.0.1:{admin}"
        self.assertEqual(metric(base, 'parley_policy_reloads_total{result="rejected"}'), 0)
        path = os.path.join(self.policies, "default.yaml")
        self.write("default.yaml",
                   "locale: default\nrules:\n  - {id: a, then: {tag: [x]}}\n"
                   "  - {id: a, then: {escalate: {priority: hihg}}}\n")
        first = s.wait_line("policy reload rejected")
        self.assertIn(f"{path}:4:", first)
        s.wait_line("policy reload failed with 2 error(s); keeping the running policies")
        rejected = [l for l in s.seen if "policy reload rejected" in l]
        self.assertTrue(any(f"{path}:4:10: duplicate rule id 'a'" in l for l in rejected),
                        rejected)
        self.assertTrue(any(f"{path}:4:41: 'priority' must be one of" in l
                            for l in rejected), rejected)
        self.assertEqual(metric(base, 'parley_policy_reloads_total{result="rejected"}'), 1)
        # Fixing the file is picked up again.
        self.write("default.yaml", GOOD)
        self.assertIn("(1 policies)", s.wait_line("policies loaded"))
        s.wait_line("configuration reloaded")
        self.assertEqual(metric(base, 'parley_policy_reloads_total{result="ok"}'), 1)
        s.signal(signal.SIGINT)
        self.assertEqual(s.wait_exit(), 0)

    def test_sighup_reloads_policies(self):
        with open(self.config, "a", encoding="utf-8") as f:
            f.write("  watch: false\n")
        s = Server(self.config)
        self.addCleanup(s.stop)
        s.wait_ready()
        self.assertFalse(any("watching policies" in l for l in s.seen))
        self.write("fr-FR.yaml", "locale: fr-FR\n")
        s.signal(signal.SIGHUP)
        self.assertIn("(2 policies)", s.wait_line("policies loaded"))
        s.wait_line("configuration reloaded")
        s.signal(signal.SIGTERM)
        self.assertEqual(s.wait_exit(), 0)

    def test_invalid_policies_stop_the_start(self):
        self.write("de-DE.yaml", "locale: de-DE\ninherits: de-AT\n")
        s = Server(self.config)
        self.addCleanup(s.stop)
        self.assertEqual(s.wait_exit(), 2)
        path = os.path.join(self.policies, "de-DE.yaml")
        self.assertTrue(any(f"{path}:2:11: error: unknown parent policy 'de-AT'" in l
                            for l in s.seen), s.seen)


if __name__ == "__main__":
    unittest.main()
