"""Start-up refuses bad configuration with the file, line and key named, and stops."""
import unittest

import pn


class ConfigErrors(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.db = pn.Database()

    @classmethod
    def tearDownClass(cls):
        cls.db.drop()

    def refused(self, yaml, env=None):
        srv = pn.Server(self.db, yaml, env=env, expect_start=False)
        code, out = srv.run_once("--check-config")
        self.assertNotEqual(code, 0, out)
        return srv.config, out

    def test_plugin_value_out_of_range(self):
        path, out = self.refused("plugins:\n  hello:\n    max_message: 0\n")
        self.assertIn(f"{path}:3: plugins.hello.max_message: 0 is below the minimum 1", out)

    def test_unknown_key_under_plugin(self):
        path, out = self.refused("plugins:\n  hello:\n    prefix: Hi\n    colour: red\n")
        self.assertIn(f"{path}:4: plugins.hello.colour", out)

    def test_unknown_kernel_key(self):
        path, out = self.refused("http:\n  prot: 3000\n")
        self.assertIn(f"{path}:2: http.prot", out)

    def test_section_of_a_plugin_not_installed(self):
        path, out = self.refused("plugins:\n  fles:\n    enabled: true\n")
        self.assertIn(f"{path}:2: plugins.fles", out)

    def test_wrong_type(self):
        path, out = self.refused("http:\n  max_queue: lots\n")
        self.assertIn(f"{path}:2: http.max_queue", out)

    def test_environment_value_checked_too(self):
        _, out = self.refused("", env={"POWERNODE_HTTP_THREADS": "0"})
        self.assertIn("POWERNODE_HTTP_THREADS", out)
        self.assertIn("http.threads", out)

    def test_short_jwt_key_refused(self):
        _, out = self.refused("", env={"POWERNODE_JWT_KEY": "short"})
        self.assertIn("32", out)

    def test_good_config_accepted(self):
        srv = pn.Server(self.db, "plugins:\n  hello:\n    max_message: 10\n", expect_start=False)
        code, out = srv.run_once("--check-config")
        self.assertEqual(code, 0, out)


if __name__ == "__main__":
    pn.main()
