"""policies/schema.json and the loader must agree: every shipped policy is
valid for both, and every file in tests/data/policy-schema/ is accepted by
both (good/) or rejected by both (bad/). The loader checks more than a
JSON Schema can (ICU regex syntax, locale tags known to ICU, inheritance,
duplicate ids); those cases are covered by the unit tests instead.

YAML is read with PyYAML (Debian's python3-yaml) and the schema is
checked with tests/tools/jsonschema_lite.py.
"""
import json
import os
import shutil
import sys
import tempfile
import unittest

try:
    import yaml
except ImportError:  # a Python without PyYAML: use the system's, which has it
    if os.path.exists("/usr/bin/python3") and sys.executable != "/usr/bin/python3":
        os.execv("/usr/bin/python3", ["/usr/bin/python3", *sys.argv])
    raise

from harness import SOURCE_ROOT, run

sys.path.insert(0, os.path.join(SOURCE_ROOT, "tests", "tools"))
from jsonschema_lite import validate  # noqa: E402

POLICIES = os.path.join(SOURCE_ROOT, "policies")
DATA = os.path.join(SOURCE_ROOT, "tests", "data", "policy-schema")
MODELINE = "# yaml-language-server: $schema=./schema.json\n"


def load_yaml(path):
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def policy_files():
    return sorted(os.path.join(POLICIES, n) for n in os.listdir(POLICIES)
                  if n.endswith(".yaml"))


class PolicySchema(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(os.path.join(POLICIES, "schema.json"), encoding="utf-8") as f:
            cls.schema = json.load(f)

    def loader_accepts(self, path):
        """Lints `path` alone, as default.yaml in a folder of its own."""
        d = tempfile.mkdtemp(prefix="parley-schema-")
        try:
            shutil.copy(path, os.path.join(d, "default.yaml"))
            r = run("policy", "lint", d)
            self.assertIn(r.returncode, (0, 2), r.stderr)
            return r.returncode == 0, r.stderr
        finally:
            shutil.rmtree(d)

    def test_shipped_policies_have_the_modeline(self):
        for path in policy_files():
            with open(path, encoding="utf-8") as f:
                self.assertEqual(f.readline(), MODELINE, path)

    def test_shipped_policies_match_the_schema(self):
        files = policy_files()
        self.assertGreaterEqual(len(files), 21)
        for path in files:
            errors = validate(load_yaml(path), self.schema)
            self.assertEqual(errors, [], path)
        r = run("policy", "lint", POLICIES)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_good_files_pass_both(self):
        names = sorted(os.listdir(os.path.join(DATA, "good")))
        self.assertGreaterEqual(len(names), 4)
        for name in names:
            path = os.path.join(DATA, "good", name)
            with self.subTest(name=name):
                self.assertEqual(validate(load_yaml(path), self.schema), [])
                ok, err = self.loader_accepts(path)
                self.assertTrue(ok, err)

    def test_bad_files_fail_both(self):
        names = sorted(os.listdir(os.path.join(DATA, "bad")))
        self.assertGreaterEqual(len(names), 20)
        for name in names:
            path = os.path.join(DATA, "bad", name)
            with self.subTest(name=name):
                self.assertNotEqual(validate(load_yaml(path), self.schema), [],
                                    "the schema accepts it")
                ok, _ = self.loader_accepts(path)
                self.assertFalse(ok, "the loader accepts it")

    def test_schema_documents_every_key(self):
        """Every property has a description, for hover help in editors."""
        def walk(node, path):
            if isinstance(node, dict):
                for key, sub in node.get("properties", {}).items():
                    self.assertTrue("description" in sub or "$ref" in sub,
                                    f"{path}.{key}")
                for key, sub in node.items():
                    walk(sub, f"{path}.{key}")
            elif isinstance(node, list):
                for i, sub in enumerate(node):
                    walk(sub, f"{path}[{i}]")
        walk(self.schema, "$")


if __name__ == "__main__":
    unittest.main()
