"""CURVE key files as ``connector-host keygen`` writes them."""

import tempfile
import unittest
from pathlib import Path

import zmq

from connector_host_client import CurveKeys


class KeyFiles(unittest.TestCase):
    def test_a_client_pair_and_a_host_public_key_are_read(self):
        public, secret = (key.decode() for key in zmq.curve_keypair())
        host_public, _ = (key.decode() for key in zmq.curve_keypair())
        with tempfile.TemporaryDirectory() as folder:
            client = Path(folder, "client.key")
            client.write_text(
                f'# a comment\npublic_key = "{public}"\nsecret_key = "{secret}"\n'
            )
            host = Path(folder, "host.pub")
            host.write_text(f'public_key = "{host_public}"\n')
            keys = CurveKeys.from_files(client, host)
            self.assertEqual(keys, CurveKeys(public, secret, host_public))
            with self.assertRaisesRegex(ValueError, "public key file"):
                CurveKeys.from_files(host, host)
            with self.assertRaisesRegex(ValueError, "no public_key"):
                Path(folder, "empty.pub").write_text("public_key = \"short\"\n")
                CurveKeys.from_files(client, Path(folder, "empty.pub"))


if __name__ == "__main__":
    unittest.main()
