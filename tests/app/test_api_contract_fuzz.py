"""The API against its own published contract: GET /api/openapi.json of the real API (real PostgreSQL, a moto server,
containers/catalog-api/scripts/fuzz-target.mjs) validates as OpenAPI 3.1, and schemathesis runs the document against
that same API with a shopper's and an admin's token, bounded in examples and time:

- invalid input (negative mode): every answer is a documented 4xx with the error schema, and the database is the same
  before and after (every table's rows, hashed);
- valid input (positive mode, then the stateful phase following the document's links reserve -> cancel / confirm):
  no 5xx, every status code documented, every body matching its schema, valid input accepted.

The run's numbers (operations, test cases) are printed on the terminal."""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from shared.dev import node_env
from shared.runtime.layers import REPO_ROOT

API = REPO_ROOT / "containers" / "catalog-api"
NODE = node_env()
pytestmark = pytest.mark.skipif(
    shutil.which("node", path=NODE["PATH"]) is None or not (API / "node_modules" / "@hono" / "zod-openapi").is_dir(),
    reason="node and the API's dependencies (`invoke install`) are needed")

# Bounds: about a minute on two cores for both runs together.
NEGATIVE = ["--mode", "negative", "--phases", "coverage,fuzzing", "--max-examples", "15", "--max-time", "20"]
POSITIVE = ["--mode", "positive", "--phases", "examples,coverage,fuzzing,stateful", "--max-examples", "15",
            "--max-time", "30"]
NEGATIVE_CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance," \
                  "negative_data_rejection"
# Valid input: everything but the checks that need credentials of a second user of the same role
# (object_level_authorization: the owner rule has its own tests in the API suite).
POSITIVE_EXCLUDED = "object_level_authorization"

# What the document cannot say in JSON Schema, so a schema-valid request may still be refused as documented: a
# cursor that this API did not return (400), session data over 2,048 characters once serialized (400), an
# idempotencyKey already used for another request (422), a restock whose total would pass 2^31 - 1 (400).
CONFIG = """
headers = { Authorization = "Bearer ${FUZZ_SHOPPER}" }

[checks.positive_data_acceptance]
expected-statuses = ["2xx", "401", "403", "404", "409"]

[[operations]]
include-operation-id = "restock"
headers = { Authorization = "Bearer ${FUZZ_ADMIN}" }
checks.positive_data_acceptance.expected-statuses = ["2xx", "404", "400"]

[[operations]]
include-operation-id = "currentSession"
headers = { Cookie = "${FUZZ_COOKIE}" }

[[operations]]
include-operation-id = "listProducts"
checks.positive_data_acceptance.expected-statuses = ["2xx", "400"]

[[operations]]
include-operation-id = "createSession"
checks.positive_data_acceptance.expected-statuses = ["2xx", "400"]

[[operations]]
include-operation-id = "reserve"
checks.positive_data_acceptance.expected-statuses = ["2xx", "404", "409", "422"]
"""


class Target:
    """fuzz-target.mjs: its stdout is drained all the time (the API logs there); `@fuzz` lines are answers."""

    def __init__(self, log: Path) -> None:
        env = {**NODE, "MOTO_PYTHON": sys.executable, "LOG_LEVEL": "WARN"}
        self.stderr = log.open("w")
        self.proc = subprocess.Popen(["node", "scripts/fuzz-target.mjs"], cwd=API, env=env, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self.stderr, text=True, bufsize=1)
        self.answers: queue.Queue[dict[str, Any]] = queue.Queue()
        self.errors: list[str] = []
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith("@fuzz "):
                self.answers.put(json.loads(line[6:]))
            elif '"level":"ERROR"' in line:
                self.errors.append(line[:2000])

    def answer(self, timeout: float = 90) -> dict[str, Any]:
        try:
            return self.answers.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"the fuzz target did not answer; exit code {self.proc.poll()}") from None

    def snapshot(self) -> dict[str, str]:
        assert self.proc.stdin is not None
        self.proc.stdin.write("snapshot\n")
        self.proc.stdin.flush()
        return self.answer(30)["snapshot"]

    def stop(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()  # the end of stdin: the target drops its database and stops what it started
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.stderr.close()


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Target, dict[str, Any]]]:
    t = Target(tmp_path_factory.mktemp("fuzz") / "target.log")
    try:
        yield t, t.answer()
    finally:
        t.stop()


def fetch(url: str, **kwargs: Any) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, **kwargs)
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()


def test_the_published_document_is_valid_openapi_3_1_and_cacheable(target: tuple[Target, dict[str, Any]]) -> None:
    from openapi_spec_validator import validate
    from openapi_spec_validator.validation import OpenAPIV31SpecValidator

    _, hello = target
    status, headers, body = fetch(f"{hello['url']}/api/openapi.json")
    assert status == 200
    assert headers["cache-control"] == "public, max-age=300"
    document = json.loads(body)
    assert document["openapi"] == "3.1.0"
    validate(document, cls=OpenAPIV31SpecValidator)
    operations = {op["operationId"]: op for path in document["paths"].values() for op in path.values()}
    assert operations["restock"]["x-catalog-auth"] == "admin"
    assert operations["restock"]["security"] == [{"bearerAuth": []}]
    assert operations["listProducts"]["security"] == []
    assert "Retry-After" in operations["reserve"]["responses"]["503"]["headers"]
    assert set(operations["reserve"]["responses"]["201"]["links"]) == {"cancel", "confirm"}


def schemathesis(hello: dict[str, Any], cookie: str, workdir: Path, mode: list[str], checks: list[str]) -> str:
    (workdir / "schemathesis.toml").write_text(CONFIG)
    env = {**os.environ, "FUZZ_SHOPPER": hello["shopper"], "FUZZ_ADMIN": hello["admin"], "FUZZ_COOKIE": cookie,
           "NO_COLOR": "1", "SCHEMATHESIS_HOOKS": ""}
    cli = [sys.executable, "-m", "schemathesis.cli", "--config-file", str(workdir / "schemathesis.toml"), "--no-color",
           "run", f"{hello['url']}/api/openapi.json", *mode, *checks, "--seed", "31", "--workers", "1",
           "--request-timeout", "10", "--suppress-health-check", "all",
           "--report", "ndjson", "--report-dir", str(workdir)]
    done = subprocess.run(cli, cwd=workdir, env=env, capture_output=True, text=True, timeout=240, check=False)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-12000:]
    return output


def numbers(output: str) -> str:
    operations = re.search(r"Tested: (\d+)", output)
    cases = re.search(r"(\d+) generated", output)
    scenarios = re.search(r"Scenarios:\s+(\d+)", output)
    return (f"{operations.group(1) if operations else '?'} operations, {cases.group(1) if cases else '?'} test cases"
            + (f", {scenarios.group(1)} stateful scenarios" if scenarios else ""))


def test_schemathesis_finds_nothing_and_invalid_input_writes_nothing(
        target: tuple[Target, dict[str, Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    t, hello = target
    status, headers, _ = fetch(f"{hello['url']}/api/sessions", method="POST", data=b"{}", headers={
        "Authorization": f"Bearer {hello['shopper']}", "Content-Type": "application/json"})
    assert status == 201
    cookie = headers["set-cookie"].split(";")[0]

    before = t.snapshot()
    negative = schemathesis(hello, cookie, tmp_path, NEGATIVE, ["--checks", NEGATIVE_CHECKS])
    assert t.snapshot() == before, "invalid input wrote to the database"

    positive = schemathesis(hello, cookie, tmp_path, POSITIVE, ["--exclude-checks", POSITIVE_EXCLUDED])
    assert "API Links:" in positive, positive[-4000:]
    assert t.errors == [], t.errors[:3]
    with capsys.disabled():
        print(f"\nschemathesis, invalid input: {numbers(negative)}; database unchanged"
              f"\nschemathesis, valid input: {numbers(positive)}")
