"""Starts a moto server on a free loopback port for one test process.

Prints the port once the server accepts requests, then serves until its standard input
closes: the test process holds the other end, so the server never outlives the tests.
"""
import sys

from moto.server import ThreadedMotoServer

server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
print(server.get_host_and_port()[1], flush=True)
sys.stdin.read()
server.stop()
