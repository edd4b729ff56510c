"""`parley detect` and `parley normalize`: JSON lines, stdin, hints, model
location, bad UTF-8 and usage errors, run against the real binary."""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

from harness import BIN, run

LOCALES = os.path.join(os.environ.get("PARLEY_SOURCE_ROOT", "."), "locales")


def run_bytes(*args, stdin=b"", env=None):
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    return subprocess.run([BIN, *args], input=stdin, capture_output=True,
                          env=full_env, timeout=60)


class Detect(unittest.TestCase):
    def test_json_for_text_argument(self):
        r = run("detect", "--json", "hola, ¿dónde está mi pedido? ¿vosotros lo sabéis?")
        self.assertEqual(r.returncode, 0, r.stderr)
        obj = json.loads(r.stdout)
        self.assertEqual(set(obj), {"language", "variety", "script", "confidence",
                                    "alternatives"})
        self.assertEqual(obj["language"], "es")
        self.assertEqual(obj["variety"], "es-ES")
        self.assertEqual(obj["script"], "Latn")
        self.assertGreater(obj["confidence"], 0.5)
        self.assertLessEqual(obj["confidence"], 1.0)
        for alt in obj["alternatives"]:
            self.assertLess(alt["confidence"], obj["confidence"])

    def test_one_object_per_stdin_line(self):
        lines = ["謝謝", "شلون أغير العنوان الحين؟", "Where is my order?", "", "12345",
                 "佢哋話已經寄咗出嚟"]
        r = run("detect", "--json", stdin="\n".join(lines) + "\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        objs = [json.loads(l) for l in r.stdout.splitlines()]
        self.assertEqual(len(objs), len(lines))
        self.assertEqual([o["language"] for o in objs], ["zh", "ar", "en", "und", "und", "zh"])
        self.assertEqual(objs[1]["variety"], "afb")
        self.assertIsNone(objs[2]["variety"])
        self.assertEqual(objs[3]["confidence"], 0)
        self.assertEqual(objs[5]["variety"], "yue")

    def test_hint_is_a_prior(self):
        plain = json.loads(run("detect", "--json", "ok").stdout)
        hinted = json.loads(run("detect", "--json", "--previous", "es", "ok").stdout)
        self.assertEqual(hinted["language"], "es")
        self.assertNotEqual(plain["language"], "es")
        clear = json.loads(run("detect", "--json", "--hint", "es-MX",
                               "Where is my order? It should have arrived.").stdout)
        self.assertEqual(clear["language"], "en")
        region = json.loads(run("detect", "--json", "--region", "BR", "pedido").stdout)
        self.assertEqual((region["language"], region["variety"]), ("pt", "pt-BR"))

    def test_only_restricts_the_answer(self):
        plain = json.loads(run("detect", "--json", "ciao").stdout)
        only = json.loads(run("detect", "--json", "--only", "es,pt", "ciao").stdout)
        self.assertNotIn(plain["language"], ("es", "pt"))
        self.assertIn(only["language"], ("es", "pt"))
        r = run("detect", "--json", "--only", "es,pt", "สวัสดีครับ")
        self.assertEqual(json.loads(r.stdout)["language"], "und")
        r = run("detect", "--only", "en,xx", "hello")
        self.assertEqual(r.returncode, 2)
        self.assertIn('unknown language "xx"', r.stderr)
        self.assertEqual(r.stdout, "")

    def test_plain_output(self):
        r = run("detect", "Wo ist meine Bestellung?")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"^de\t-\t[01]\.\d{3}\n$")

    def test_bad_utf8_reports_offset_and_keeps_lines(self):
        r = run_bytes("detect", "--json", stdin=b"hola amigo\nbad \xff byte\nthanks a lot\n")
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"line 2: invalid UTF-8 at byte offset 4", r.stderr)
        out = [json.loads(l) for l in r.stdout.decode().splitlines()]
        self.assertEqual(len(out), 3)
        self.assertEqual(out[1]["language"], "und")
        self.assertEqual(out[1]["error"], "PL_EUTF8")
        self.assertEqual(out[2]["language"], "en")

    def test_model_flag_and_env(self):
        tmp = tempfile.mkdtemp(prefix="parley-locales-")
        try:
            r = run("detect", "--model", tmp, "hola")
            self.assertEqual(r.returncode, 1)
            self.assertIn("langid.bin", r.stderr)
            r = run("detect", "hola", env={"PARLEY_LOCALES_DIR": tmp})
            self.assertEqual(r.returncode, 1)
            shutil.copy(os.path.join(LOCALES, "langid.bin"), tmp)
            r = run("detect", "--json", "vosotros sabéis", env={"PARLEY_LOCALES_DIR": tmp})
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIsNone(json.loads(r.stdout)["variety"])  # no varieties/ there
        finally:
            shutil.rmtree(tmp)

    def test_unknown_flag_is_usage_error(self):
        r = run("detect", "--frobnicate")
        self.assertEqual(r.returncode, 2)
        self.assertIn("usage: parley detect", r.stderr)
        self.assertEqual(r.stdout, "")


class Normalize(unittest.TestCase):
    def test_nfc_default_and_nfkc(self):
        r = run("normalize", "cafe\u0301  \u202eorder\u202c\u00a0\uff21")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "caf\u00e9 order \uff21\n")
        r = run("normalize", "--form", "nfkc", "\uff21\ufb01")
        self.assertEqual(r.stdout, "Afi\n")
        r = run("normalize", "--casefold", "Stra\u00dfe")
        self.assertEqual(r.stdout, "strasse\n")

    def test_stdin_lines_and_bad_utf8(self):
        r = run_bytes("normalize", stdin=b"a\xcc\x8a\n\xc3\x28\n")
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stdout, "\u00e5\n\n".encode())
        self.assertIn(b"line 2: invalid UTF-8 at byte offset 0", r.stderr)

    def test_bad_form_is_usage_error(self):
        r = run("normalize", "--form", "nfd", "x")
        self.assertEqual(r.returncode, 2)
        self.assertIn("usage: parley normalize", r.stderr)


if __name__ == "__main__":
    unittest.main()
