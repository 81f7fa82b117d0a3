"""Fuzzes the OpenAPI contract: starts `huddle serve --memory` on a free port, runs schemathesis
against the contract it serves (every phase, stateful where the contract's links allow), and
fails on any finding. Usage: fuzz.py HUDDLE_BINARY [extra schemathesis arguments]."""

import json
import os
import pathlib
import socket
import subprocess
import sys
import tempfile
import threading

CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
# At least this many generated requests, or the run fails: a contract that stopped generating
# cases (a broken schema, an unreachable server) must not pass quietly.
MIN_REQUESTS = 1000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> int:
    binary, extra = sys.argv[1], sys.argv[2:]
    port = free_port()
    server = subprocess.Popen(
        [binary, "serve", "--memory", "--port", str(port), "--sign-ups-per-ip", "100000/60",
         "--login-failures-per-ip", "100000/60"],
        stdout=subprocess.PIPE, text=True, env=dict(os.environ, HUDDLE_LOG_LEVEL="warn"),
    )
    try:
        for line in server.stdout:
            if line.startswith("listening on "):
                url = line.split()[-1]
                # Keep reading what it prints, so a full pipe never stalls it.
                threading.Thread(target=server.stdout.read, daemon=True).start()
                break
        else:
            print("huddle serve ended before it listened", file=sys.stderr)
            return 1
        here = pathlib.Path(__file__).parent
        env = dict(os.environ, HUDDLE_FUZZ_URL=url, SCHEMATHESIS_HOOKS="fresh_account",
                   PYTHONPATH=str(here))
        with tempfile.TemporaryDirectory() as reports:
            report = pathlib.Path(reports) / "run.json"
            ran = subprocess.run(
                [str(pathlib.Path(sys.executable).parent / "schemathesis"), "run", f"{url}/openapi.json",
                 "--checks", CHECKS, "--max-examples", "120", "--seed", "1", "--workers", "2",
                 "--no-color", "--report", "json", "--report-json-path", str(report),
                 "--generation-database", "none", *extra],
                env=env,
            )
            requests = count_requests(report)
        print(f"contract fuzz: {requests} requests generated")
        if ran.returncode != 0:
            return ran.returncode
        if requests < MIN_REQUESTS:
            print(f"contract fuzz: fewer than {MIN_REQUESTS} requests", file=sys.stderr)
            return 1
        return 0
    finally:
        server.terminate()
        server.wait(timeout=30)


def count_requests(report: pathlib.Path) -> int:
    return json.loads(report.read_text())["test_cases"]["generated"]


if __name__ == "__main__":
    sys.exit(main())
