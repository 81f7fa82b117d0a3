"""Schemathesis hooks for the contract fuzz: every request carries the bearer token of an account
this hook signed up, and a token the authorizer refuses (revoked or erased by an earlier
request) is replaced by a fresh account's."""

import json
import os
import secrets
import urllib.request

import schemathesis

BASE_URL = os.environ["HUDDLE_FUZZ_URL"]


def sign_up() -> str:
    name = "fuzz" + secrets.token_hex(6)
    body = json.dumps(
        {"username": name, "email": f"{name}@example.com", "password": secrets.token_urlsafe(18)}
    ).encode()
    request = urllib.request.Request(
        f"{BASE_URL}/v1/accounts", data=body, method="POST", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)["token"]


@schemathesis.auth(refresh_interval=None, retry_on=[403])
class FreshAccount:
    def get(self, case, ctx):
        return sign_up()

    def set(self, case, data, ctx):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"
