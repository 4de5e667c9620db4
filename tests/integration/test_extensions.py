"""Extensions are routed only when enabled, by config or by environment, and the feature gate
in the host API reports the same."""
import os
import unittest

import pn


def fixture(name):
    return os.path.join(pn.build_dir(), "test-plugins", name + ".so")


class Extensions(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.db = pn.Database()

    @classmethod
    def tearDownClass(cls):
        cls.db.drop()

    def check(self, yaml, env, active):
        srv = pn.Server(self.db, yaml, env=env,
                        plugins_paths=[fixture("demo_ext"), fixture("demo_probe")])
        try:
            r = srv.request("GET", "/api/v1/demo_ext/ping")
            self.assertEqual(r.status, 200 if active else 404, r)
            r = srv.request("GET", "/api/v1/demo_probe/feature")
            self.assertEqual(r.doc["data"]["demo_ext_active"], active)
            doc = srv.request("GET", "/api/v1/openapi.json").doc
            self.assertEqual("/api/v1/demo_ext/ping" in doc["paths"], active)
        finally:
            self.assertEqual(srv.stop(), 0, srv.log_text())

    def test_off_by_default(self):
        self.check("", {}, False)

    def test_on_by_config_list(self):
        self.check("extensions:\n  enabled: [demo_ext]\n", {}, True)

    def test_on_by_plugin_section(self):
        self.check("plugins:\n  demo_ext:\n    enabled: true\n", {}, True)

    def test_on_by_environment(self):
        self.check("", {"POWERNODE_EXTENSIONS": "demo_ext"}, True)

    def test_environment_overrides_config(self):
        # The environment list replaces the file's (an empty variable counts as unset).
        self.check("extensions:\n  enabled: [demo_ext]\n", {"POWERNODE_EXTENSIONS": "business"},
                   False)

    def test_namespace_disabled_by_environment(self):
        srv = pn.Server(self.db, "", env={"POWERNODE_PLUGINS_DISABLED": "hello"})
        try:
            self.assertEqual(srv.request("GET", "/api/v1/hello/greetings").status, 404)
        finally:
            self.assertEqual(srv.stop(), 0, srv.log_text())


if __name__ == "__main__":
    pn.main()
