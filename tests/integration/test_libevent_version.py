"""The server runs against Debian's patched libevent (2.1.12-stable-8+deb12u1 or later): the
library the binary resolves at run time belongs to a package at that version or newer."""
import os
import re
import subprocess
import unittest

import pn

MIN = "2.1.12-stable-8+deb12u1"


class LibeventVersion(unittest.TestCase):
    def test_linked_libevent_is_the_security_update(self):
        ldd = subprocess.run(["ldd", pn.server_binary()], capture_output=True, text=True,
                             check=True).stdout
        libs = re.findall(r"(libevent\S*\.so\S*) => (\S+)", ldd)
        self.assertTrue(libs, ldd)
        for name, path in libs:
            real = os.path.realpath(path)
            owner = subprocess.run(["dpkg", "-S", real], capture_output=True, text=True)
            if owner.returncode != 0:
                owner = subprocess.run(["dpkg", "-S", path], capture_output=True, text=True)
            self.assertEqual(owner.returncode, 0, f"{path} belongs to no package")
            pkg = owner.stdout.split(":")[0]
            ver = subprocess.run(["dpkg-query", "-W", "-f=${Version}", pkg], capture_output=True,
                                 text=True, check=True).stdout
            ok = subprocess.run(["dpkg", "--compare-versions", ver, "ge", MIN]).returncode == 0
            self.assertTrue(ok, f"{name} from {pkg} {ver} is older than {MIN}")

    def test_server_reports_the_runtime_version(self):
        out = subprocess.run([pn.server_binary(), "--version"], capture_output=True, text=True,
                             check=True).stdout
        self.assertIn("libevent 2.1.12", out)


if __name__ == "__main__":
    pn.main()
