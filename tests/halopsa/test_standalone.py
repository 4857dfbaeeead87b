"""`python -m halosync_halopsa.fake` runs out of process (for the crash-safety test and `halosync demo`)."""

from __future__ import annotations

import subprocess
import sys

import httpx


def test_standalone_fake_prints_its_url_and_serves() -> None:
    command = [sys.executable, "-m", "halosync_halopsa.fake", "--port", "0", "--rate", "50/60",
               "--post-answer", "first"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout is not None
            url = process.stdout.readline().strip()
            assert url.startswith("http://127.0.0.1:")
            with httpx.Client(base_url=url, timeout=5) as http:
                seed = {"clients": [{"name": "Acme", "users": [{"name": "Ada"}]}]}
                seeded = http.post("/_fake/seed", json=seed).json()
                assert seeded["clients"] == [1] and seeded["users"] == [1]
                assert http.get("/api/authinfo").json()["auth_url"] == f"{url}/auth"
                token = http.post("/auth/token", data={"grant_type": "client_credentials", "client_id": "halosync",
                                                       "client_secret": "fake-secret"}).json()["access_token"]
                users = http.get("/api/users", headers={"Authorization": f"Bearer {token}"}).json()
                assert users["record_count"] == 1
                stats = http.get("/_fake/stats").json()
                assert stats["by_route"] == {"GET /api/authinfo": 1, "POST /auth/token": 1, "GET /api/users": 1}
                changed = http.post("/_fake/settings", json={"post_answer": "array"}).json()
                assert changed["post_answer"] == "array" and changed["rate_limit"] == 50
        finally:
            process.terminate()  # the with block then waits for it to exit
