"""The Apertium provider with the real pipelines (apertium, apertium-eng-spa,
apertium-es-pt from Debian): translations arrive both ways, protected spans
survive, a killed or stuck pipeline is restarted, a missing pair is named,
pivots, policy fixes, and the offline example works without a network."""
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import unittest

from harness import BIN, SOURCE_ROOT, WAIT_SECONDS, run, write_temp

DRIVER = os.environ.get("PARLEY_TRANSLATE_DRIVER", "translate_driver")
OFFLINE = os.path.join(SOURCE_ROOT, "docs", "examples", "offline.yaml")
PID = re.compile(r"pipeline (\S+) started \(pid (\d+)\)")


def offline_config(extra="", timeout="10s", retries=2, data_dir=None):
    lines = ["translation:", "  providers:", "    - name: apertium",
             "      type: apertium", f"      timeout: {timeout}",
             f"      retries: {retries}"]
    if data_dir:
        lines.append(f"      data_dir: {data_dir}")
    return write_temp("\n".join(lines) + "\n" + extra + "  timeout: 30s\n")


class Driver:
    """translate_driver --lines: one line in, one JSON result out, with the
    log records (pipeline pids) in between, in order."""

    def __init__(self, cfg, src, dst):
        self.p = subprocess.Popen(
            [DRIVER, "-c", cfg, "--from", src, "--to", dst, "--lines"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        self.pids = []

    def translate(self, text):
        self.p.stdin.write(text + "\n")
        self.p.stdin.flush()
        while True:
            line = self.p.stdout.readline()
            if not line:
                raise AssertionError("the driver exited")
            m = PID.search(line)
            if m:
                self.pids.append(int(m.group(2)))
            if line.startswith("{"):
                return json.loads(line)

    def close(self):
        self.p.stdin.close()
        out = self.p.stdout.read()
        self.p.wait(timeout=WAIT_SECONDS)
        if self.p.returncode != 0:
            raise AssertionError(f"driver exit status {self.p.returncode}: {out}")
        return out


class Translation(unittest.TestCase):
    def cli(self, *args, cfg=OFFLINE):
        return run("translate", "-c", cfg, *args)

    def test_english_to_spanish_keeps_the_order_number(self):
        r = self.cli("--to", "es", "--from", "en", "--json",
                     "Where is my order #A-4821? Write to ana@example.com.")
        self.assertEqual(r.returncode, 0, r.stderr)
        res = json.loads(r.stdout)
        self.assertIn("#A-4821", res["text"])
        self.assertNotIn("#Un-4821", res["text"])
        self.assertIn("ana@example.com", res["text"])
        self.assertIn("Dónde", res["text"])
        self.assertEqual(res["quality"], "offline")
        self.assertEqual(res["provider"], "apertium")
        self.assertEqual(res["model"], "eng-spa")
        self.assertIsNone(res["pivot"])

    def test_spanish_to_english_keeps_codes_times_and_reserved_characters(self):
        r = self.cli("--to", "en", "--from", "es", "--json",
                     "¿Dónde está mi pedido #A-4821? Llega a las 10:30 [urgente] ~ok")
        self.assertEqual(r.returncode, 0, r.stderr)
        text = json.loads(r.stdout)["text"]
        for kept in ["#A-4821", "10:30", "[", "]", "~"]:
            self.assertIn(kept, text)
        self.assertIn("Where", text)
        self.assertNotIn("*", text)  # no unknown-word marks

    def test_example_works_without_a_network(self):
        # The README's offline command, in a network namespace with no
        # interfaces up: nothing may need the network.
        if shutil.which("unshare") is None or subprocess.run(
                ["unshare", "-rn", "true"], capture_output=True).returncode != 0:
            self.skipTest("unshare -rn is not available")
        r = subprocess.run(["unshare", "-rn", BIN, "translate", "-c", OFFLINE, "--to", "es",
                            "Where is my order #A-4821?"],
                           capture_output=True, text=True, timeout=WAIT_SECONDS)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("#A-4821", r.stdout)
        self.assertIn("mi orden", r.stdout)  # detected as English, translated

    def test_missing_pair_names_it(self):
        r = self.cli("--to", "de", "--from", "en", "Hello")
        self.assertEqual(r.returncode, 1)
        self.assertIn("no_pair", r.stderr)
        self.assertIn("en-de", r.stderr)
        self.assertIn("apertium-", r.stderr)  # how to add one
        self.assertIn("eng-spa", r.stderr)    # what is installed

    def test_pivot_through_spanish(self):
        r = self.cli("--to", "en", "--from", "pt", "--json", "Onde está o meu pedido?")
        self.assertEqual(r.returncode, 0, r.stderr)
        res = json.loads(r.stdout)
        self.assertEqual(res["model"], "pt-es+spa-eng")
        self.assertEqual(res["pivot"], "es")
        self.assertEqual(res["quality"], "offline")
        self.assertIn("Where", res["text"])
        # Without a pivot the pair is missing.
        cfg = write_temp("translation:\n  providers:\n    - name: ap\n      type: apertium\n"
                         "      pivot: ''\n")
        r = self.cli("--to", "en", "--from", "pt", "Onde está o meu pedido?", cfg=cfg)
        self.assertEqual(r.returncode, 1)
        self.assertIn("pt-en", r.stderr)

    def test_variant_follows_the_locale(self):
        r = self.cli("--to", "pt-BR", "--from", "es", "--json", "El tren llega tarde.")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)["model"], "es-pt_BR")

    def test_policy_fixes_vosotros_forms_for_latin_america(self):
        text = "We tell you that your order is late."
        r = self.cli("--to", "es", "--from", "en", text)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("vuestro", r.stdout)  # Apertium writes Spain's forms
        r = self.cli("--to", "es-419", "--from", "en", "--policy", "es-419", "--explain", text)
        self.assertEqual(r.returncode, 0, r.stderr)
        translation = r.stdout.split("--- translation ---\n")[1]
        self.assertNotIn("vuestro", translation)
        self.assertIn("su orden", translation)
        self.assertIn("post-edit (es-419)", r.stdout)

    def test_llm_first_then_apertium_when_it_is_down(self):
        cfg = write_temp(
            "translation:\n  providers:\n"
            "    - name: llm\n      type: openai\n      base_url: http://127.0.0.1:9/v1\n"
            "      model: m\n      retries: 0\n"
            "    - name: offline\n      type: apertium\n"
            "  chain: [llm, offline]\n")
        r = self.cli("--to", "es", "--from", "en", "--json", "Where is my order?", cfg=cfg)
        self.assertEqual(r.returncode, 0, r.stderr)
        res = json.loads(r.stdout)
        self.assertEqual(res["provider"], "offline")
        self.assertEqual(res["quality"], "offline")


class Pipelines(unittest.TestCase):
    def driver(self, cfg, src, dst):
        d = Driver(cfg, src, dst)
        self.addCleanup(self.stop, d)
        return d

    @staticmethod
    def stop(d):
        if d.p.poll() is None:
            d.p.kill()
            d.p.wait()
        d.p.stdin.close()
        d.p.stdout.close()

    def test_one_pipeline_serves_many_messages(self):
        d = self.driver(offline_config(), "en", "es")
        for i in range(5):
            res = d.translate(f"Order number {i}00 is ready.")
            self.assertEqual(res["status"], 0, res)
            self.assertIn(f"{i}00", res["text"])
        self.assertEqual(len(d.pids), 1)  # started once, reused
        d.close()

    def test_killed_pipeline_is_restarted(self):
        d = self.driver(offline_config(), "es", "en")
        first = d.translate("Hola, ¿dónde está mi pedido?")
        self.assertEqual(first["status"], 0, first)
        self.assertEqual(len(d.pids), 1)
        # The whole pipeline: it runs in its own process group.
        os.killpg(d.pids[0], signal.SIGKILL)
        second = d.translate("Gracias por su ayuda.")
        self.assertEqual(second["status"], 0, second)
        self.assertIn("Thank", second["text"])
        self.assertGreaterEqual(second["restarts"], 1)
        self.assertEqual(len(d.pids), 2)
        self.assertNotEqual(d.pids[0], d.pids[1])
        d.close()

    def fake_modes(self, modes):
        """A data folder with modes of our own: sed programs in null-flush
        mode (apertium-wblank-mode adds -z to the first program)."""
        root = tempfile.mkdtemp(prefix="parley-apertium-")
        self.addCleanup(shutil.rmtree, root)
        os.mkdir(os.path.join(root, "modes"))
        for name, line in modes.items():
            with open(os.path.join(root, "modes", name + ".mode"), "w") as f:
                f.write(line + "\n")
        return root

    def test_stuck_pipeline_times_out_and_is_restarted(self):
        root = self.fake_modes({"xx-yy": "sed -u /hang/d"})
        d = self.driver(offline_config(timeout="300ms", data_dir=root), "xx", "yy")
        ok = d.translate("hello")
        self.assertEqual(ok["status"], 0, ok)
        self.assertEqual(ok["text"], "hello")
        stuck = d.translate("please hang here")
        self.assertEqual(stuck["reason"], "timeout", stuck)
        self.assertIn("xx-yy", stuck["message"])
        again = d.translate("hello again")
        self.assertEqual(again["status"], 0, again)
        self.assertEqual(again["text"], "hello again")
        self.assertEqual(len(d.pids), 2)
        self.assertGreaterEqual(again["restarts"], 1)
        d.close()

    def test_crashing_pipeline_fails_after_retries_then_recovers(self):
        root = self.fake_modes({"xx-yy": "sed -u /crash/Q"})
        d = self.driver(offline_config(retries=1, data_dir=root), "xx", "yy")
        bad = d.translate("crash now")
        self.assertNotEqual(bad["status"], 0)
        self.assertIn("pipeline xx-yy", bad["message"])
        self.assertIn("while translating (2 tries)", bad["message"])
        good = d.translate("fine")
        self.assertEqual(good["status"], 0, good)
        self.assertEqual(good["text"], "fine")
        self.assertEqual(len(d.pids), 3)  # the first run, its one resend, then fine
        d.close()

    def test_missing_program_is_reported(self):
        cfg = write_temp("translation:\n  providers:\n    - name: ap\n      type: apertium\n"
                         "      command: no-such-apertium\n")
        r = run("translate", "-c", cfg, "--from", "en", "--to", "es", "Hello")
        self.assertEqual(r.returncode, 1)
        self.assertIn("no-such-apertium", r.stderr)
        self.assertIn("unavailable", r.stderr)


if __name__ == "__main__":
    unittest.main()
