"""SIGTERM and SIGINT: the server stops accepting, lets an in-flight request finish, exits 0."""
import signal
import socket
import threading
import time
import unittest

import pn


class Shutdown(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.db = pn.Database()

    @classmethod
    def tearDownClass(cls):
        cls.db.drop()

    def test_in_flight_request_finishes(self):
        srv = pn.Server(self.db, "http:\n  shutdown_grace: 10\n")
        result = {}
        # A request whose body arrives slowly is in flight while SIGTERM lands.
        s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
        body = b'{"email":"nobody@example.test","password":"wrong password here"}'
        s.sendall(b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: "
                  b"application/json\r\nContent-Length: %d\r\n\r\n" % len(body) + body[:10])

        def finish():
            time.sleep(1.0)
            s.sendall(body[10:])
            result["resp"] = s.recv(4096)

        t = threading.Thread(target=finish)
        t.start()
        time.sleep(0.3)
        srv.proc.send_signal(signal.SIGTERM)
        t.join(15)
        # The one SIGTERM above is the whole shutdown request: wait, don't signal again.
        code = srv.proc.wait(20)
        s.close()
        self.assertEqual(code, 0, srv.log_text())
        self.assertTrue(result.get("resp", b"").startswith(b"HTTP/1.1 401"), result)
        with self.assertRaises(OSError):
            socket.create_connection(("127.0.0.1", srv.port), timeout=2).close()

    def test_sigint_exits_zero(self):
        srv = pn.Server(self.db, "")
        self.assertEqual(srv.request("GET", "/health").status, 200)
        self.assertEqual(srv.stop(sig=signal.SIGINT), 0, srv.log_text())


if __name__ == "__main__":
    pn.main()
