"""State backend, secrets provider, the Pulumi CLI lookup and `doctor`: clear one-line refusals, fast failures."""

from __future__ import annotations

import time
import urllib.error
from pathlib import Path

import pytest

from shared.deploy import doctor
from shared.deploy.environment import (
    DEFAULT_STATE_DIR,
    BackendError,
    PassphraseError,
    prepare_state_dir,
    resolve_backend,
    resolve_environment,
    resolve_secrets,
)
from shared.deploy.pulumi_cli import INSTALL_URL, PulumiCliMissing, locate_pulumi_cli
from shared.runtime.errors import CatalogError

PASS = {"PULUMI_CONFIG_PASSPHRASE": "p"}


def never_tty() -> bool:
    return False


def no_prompt(_prompt: str) -> str:
    raise AssertionError("must not prompt")


# --- backend ------------------------------------------------------------------------------------------------
def test_default_backend_is_the_repo_state_dir() -> None:
    url, kind, path = resolve_backend(None, {})
    assert (url, kind, path) == (f"file://{DEFAULT_STATE_DIR}", "file", DEFAULT_STATE_DIR)
    assert DEFAULT_STATE_DIR.name == ".pulumi-state"


def test_file_backend_made_absolute_and_created(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    env = resolve_environment("file://state/here", None, PASS, never_tty, no_prompt)
    assert env.backend_url == f"file://{tmp_path}/state/here" and env.state_dir == tmp_path / "state" / "here"
    assert env.env_vars["PULUMI_BACKEND_URL"] == env.backend_url
    assert not env.state_dir.exists()  # resolving creates nothing
    prepare_state_dir(env)
    assert env.state_dir.is_dir()


def test_s3_backend_from_flag_or_env() -> None:
    assert resolve_backend("s3://team-state/catalog", {})[:2] == ("s3://team-state/catalog", "s3")
    assert resolve_backend(None, {"PULUMI_BACKEND_URL": "s3://team-state"})[1] == "s3"


@pytest.mark.parametrize(("flag", "env", "needle"), [
    ("https://api.pulumi.com", {}, "--backend 'https://api.pulumi.com' is not a file:// or s3:// backend"),
    (None, {"PULUMI_BACKEND_URL": "azblob://x"}, "PULUMI_BACKEND_URL 'azblob://x' is not a file:// or s3://"),
    ("s3://UPPER_case", {}, "has no valid S3 bucket name"),
    ("file://", {}, "names no folder"),
])
def test_other_backends_are_refused_in_one_line(flag: str | None, env: dict[str, str], needle: str) -> None:
    with pytest.raises(BackendError) as err:
        resolve_backend(flag, env)
    assert needle in str(err.value) and "\n" not in str(err.value)


# --- secrets provider ---------------------------------------------------------------------------------------
def test_missing_passphrase_without_terminal_names_the_variable() -> None:
    with pytest.raises(PassphraseError) as err:
        resolve_secrets(None, {}, never_tty, no_prompt)
    text = str(err.value)
    assert "PULUMI_CONFIG_PASSPHRASE is not set and there is no terminal" in text
    assert "PULUMI_CONFIG_PASSPHRASE_FILE" in text and "\n" not in text


def test_passphrase_sources() -> None:
    assert resolve_secrets(None, {"PULUMI_CONFIG_PASSPHRASE": ""}, never_tty, no_prompt)[0] == "passphrase"
    provider, extra, _source = resolve_secrets(None, {}, lambda: True, lambda _p: "typed")
    assert (provider, extra) == ("passphrase", {"PULUMI_CONFIG_PASSPHRASE": "typed"})
    assert resolve_secrets("awskms://alias/catalog", {}, never_tty, no_prompt)[0] == "awskms://alias/catalog"
    with pytest.raises(PassphraseError, match="is not a file"):
        resolve_secrets(None, {"PULUMI_CONFIG_PASSPHRASE_FILE": "/nonexistent/pass"}, never_tty, no_prompt)
    with pytest.raises(PassphraseError, match="not supported"):
        resolve_secrets("gcpkms://x", {}, never_tty, no_prompt)


def test_passphrase_file_accepted(tmp_path: Path) -> None:
    f = tmp_path / "pass"
    f.write_text("secret")
    env = resolve_environment(None, None, {"PULUMI_CONFIG_PASSPHRASE_FILE": str(f)}, never_tty, no_prompt)
    assert env.secrets_provider == "passphrase" and "PULUMI_CONFIG_PASSPHRASE" not in env.env_vars


# --- Pulumi CLI ---------------------------------------------------------------------------------------------
def test_cli_from_path(tmp_path: Path) -> None:
    made: list[dict[str, str]] = []
    found = locate_pulumi_cli(which=lambda _n: "/usr/bin/pulumi", command=lambda **kw: made.append(kw) or "cmd",
                              install=lambda **kw: pytest.fail("no install"), root=tmp_path, say=no_prompt)
    assert found == "cmd" and made == [{}]


def test_cli_from_project_folder(tmp_path: Path) -> None:
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "pulumi").write_text("")
    made: list[dict[str, str]] = []
    locate_pulumi_cli(which=lambda _n: None, command=lambda **kw: made.append(kw) or "cmd",
                      install=lambda **kw: pytest.fail("no install"), root=tmp_path, say=no_prompt)
    assert made == [{"root": str(tmp_path)}]


def test_cli_missing_offline_says_how_to_install_in_one_line(tmp_path: Path) -> None:
    said: list[str] = []

    def offline(**kwargs: str) -> None:
        assert kwargs == {"root": str(tmp_path)}
        raise urllib.error.URLError("[Errno -2] Name or service not known\nmore detail")

    with pytest.raises(PulumiCliMissing) as err:
        locate_pulumi_cli(which=lambda _n: None, command=lambda **kw: pytest.fail("none"), install=offline,
                          root=tmp_path, say=said.append)
    text = str(err.value)
    assert "not on PATH and could not be installed" in text and INSTALL_URL in text and "\n" not in text
    assert said and "installing" in said[0]


def test_broken_cli_on_path_is_reported(tmp_path: Path) -> None:
    def too_old(**kwargs: str) -> None:
        raise RuntimeError("Minimum version requirement failed. The minimum CLI version requirement is 3.200.0")

    with pytest.raises(PulumiCliMissing, match="does not work: Minimum version"):
        locate_pulumi_cli(which=lambda _n: "/bin/pulumi", command=too_old, install=too_old, root=tmp_path)


# --- AWS credentials and doctor -----------------------------------------------------------------------------
@pytest.fixture
def no_aws_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                "AWS_DEFAULT_PROFILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_WEB_IDENTITY_TOKEN_FILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def test_missing_credentials_fail_fast_with_what_to_do(no_aws_credentials: None) -> None:
    started = time.monotonic()
    with pytest.raises(CatalogError) as err:
        doctor.aws_identity()
    assert time.monotonic() - started < 10
    assert "no usable AWS credentials" in str(err.value) and "AWS_PROFILE" in str(err.value)


def test_unreachable_sts_fails_fast(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "example")
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:9")  # nothing listens: refused at once
    started = time.monotonic()
    check = doctor.check_aws()
    assert time.monotonic() - started < 10
    assert check.status == "FAIL" and "cannot reach AWS STS" in check.detail and "network" in check.detail


def test_doctor_lines_and_required_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto import mock_aws

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        checks = doctor.run_doctor(None, None, env={}, which=lambda _n: None,
                                   run=lambda args: (False, "x"), isatty=never_tty)
    by_name = {c.name: c for c in checks}
    assert [c.name for c in checks] == ["python packages", "guardrails pack", "pulumi CLI", "AWS credentials",
                                        "docker buildx", "state backend", "secrets provider"]
    assert by_name["guardrails pack"].status == "OK"  # this suite runs in the repository's virtualenv
    assert by_name["python packages"].status == "OK" and "pulumi-aws 7." in by_name["python packages"].detail
    assert by_name["pulumi CLI"].status == "FAIL" and INSTALL_URL in by_name["pulumi CLI"].detail
    assert by_name["AWS credentials"].status == "OK" and "account 123456789012" in by_name["AWS credentials"].detail
    assert by_name["docker buildx"].status == "WARN"  # optional: a prebuilt image works without it
    assert by_name["state backend"].status == "OK"
    assert by_name["secrets provider"].status == "FAIL"
    assert "PULUMI_CONFIG_PASSPHRASE" in by_name["secrets provider"].line
    assert all("\n" not in c.line for c in checks)


def test_doctor_s3_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3
    from moto import mock_aws

    check = doctor.check_backend("s3://team-state", {}, aws_ok=False)
    assert check.status == "FAIL" and "needs working AWS credentials" in check.detail
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        missing = doctor.check_backend("s3://team-state/catalog", {}, aws_ok=True)
        assert missing.status == "FAIL" and "bucket team-state not reachable" in missing.detail
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="team-state")
        assert doctor.check_backend("s3://team-state/catalog", {}, aws_ok=True).status == "OK"
