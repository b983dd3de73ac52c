"""pyftpdlib with TLS required on control and data, for the FTP-server compatibility tests (scripts/test-servers.sh).
usage: pyftpd.py PORT PASV_MIN PASV_MAX USER PASSWORD HOME CERT KEY"""
import logging
import sys

from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import TLS_FTPHandler
from pyftpdlib.servers import FTPServer

port, pasv_min, pasv_max = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
user, password, home, cert, key = sys.argv[4:9]

authorizer = DummyAuthorizer()
authorizer.add_user(user, password, home, perm="elradfmwMT")

handler = TLS_FTPHandler
handler.certfile = cert
handler.keyfile = key
handler.tls_control_required = True
handler.tls_data_required = True
handler.authorizer = authorizer
handler.passive_ports = range(pasv_min, pasv_max + 1)
handler.masquerade_address = "127.0.0.1"

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
server = FTPServer(("127.0.0.1", port), handler)
server.max_cons = 200
server.serve_forever()
