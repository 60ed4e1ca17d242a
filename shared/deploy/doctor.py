"""`invoke doctor`: each prerequisite on one line, OK or what to do. Also the AWS credentials check the
deploying tasks run before touching anything (STS, short timeouts: no network must fail in seconds)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from shared.deploy.environment import (
    PASSPHRASE_ENV,
    BackendError,
    PassphraseError,
    resolve_backend,
    resolve_secrets,
    stdin_is_terminal,
)
from shared.deploy.pulumi_cli import INSTALL_URL, cli_path
from shared.policy import PACK_DIR, pack_virtualenv_problem, require_pack
from shared.runtime import REGION
from shared.runtime.errors import CatalogError
from shared.runtime.layers import REPO_ROOT

PACKAGES = ("pulumi", "pulumi-aws", "pulumi-command", "pulumi-policy", "invoke", "boto3")
STS_CONNECT_TIMEOUT_S = 3
CREDENTIALS_FIX = ("set AWS_PROFILE (and run `aws sso login` for SSO profiles) or AWS_ACCESS_KEY_ID and "
                   "AWS_SECRET_ACCESS_KEY")


class AwsCredentialsError(CatalogError):
    """No usable AWS credentials, or AWS cannot be reached."""


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # OK, WARN (optional prerequisite) or FAIL (required)
    detail: str

    @property
    def line(self) -> str:
        return f"{self.status:<4}  {self.name}: {self.detail}"


def sts_client() -> Any:
    import boto3
    from botocore.config import Config

    config = Config(connect_timeout=STS_CONNECT_TIMEOUT_S, read_timeout=5,
                    retries={"max_attempts": 1, "mode": "standard"})
    return boto3.client("sts", region_name=REGION, config=config)


def aws_identity(client_factory: Callable[[], Any] = sts_client) -> str:
    """`account 123456789012 as arn:...`; raise AwsCredentialsError with what to do."""
    from botocore import exceptions as bx

    try:
        identity = client_factory().get_caller_identity()
    except (bx.NoCredentialsError, bx.PartialCredentialsError, bx.ProfileNotFound,
            bx.CredentialRetrievalError, bx.TokenRetrievalError, bx.SSOError) as exc:
        raise AwsCredentialsError(f"no usable AWS credentials ({type(exc).__name__})", CREDENTIALS_FIX) from None
    except bx.ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "ClientError")
        raise AwsCredentialsError(f"AWS refused the credentials ({code})",
                                  "renew them (expired session?) or pick another AWS_PROFILE") from None
    except (bx.EndpointConnectionError, bx.ConnectTimeoutError, bx.ReadTimeoutError,
            bx.ConnectionClosedError) as exc:
        raise AwsCredentialsError(f"cannot reach AWS STS in {REGION} ({type(exc).__name__})",
                                  "check the network connection or HTTPS_PROXY") from None
    except bx.BotoCoreError as exc:
        raise AwsCredentialsError(f"AWS credentials check failed: {exc}", CREDENTIALS_FIX) from None
    return f"account {identity['Account']} as {identity['Arn']}"


def check_packages(version: Callable[[str], str] = metadata.version) -> Check:
    found, missing = [], []
    for name in PACKAGES:
        try:
            found.append(f"{name} {version(name)}")
        except metadata.PackageNotFoundError:
            missing.append(name)
    if missing:
        return Check("python packages", "FAIL", f"missing {', '.join(missing)}: run pip install -e '.[dev]'")
    return Check("python packages", "OK", ", ".join(found))


def check_guardrails(prefix: str = sys.prefix) -> Check:
    """Every preview and up runs the guardrails pack, in the repository's virtualenv."""
    try:
        require_pack()
    except CatalogError as exc:
        return Check("guardrails pack", "FAIL", str(exc))
    problem = pack_virtualenv_problem(python_prefix=prefix)
    if problem:
        return Check("guardrails pack", "FAIL", problem)
    return Check("guardrails pack", "OK", f"{PACK_DIR.relative_to(REPO_ROOT)} in {prefix}")


def _run(args: list[str]) -> tuple[bool, str]:
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=15, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, type(exc).__name__
    text = (done.stdout or done.stderr).strip().splitlines()
    return done.returncode == 0, text[0] if text else ""


def check_pulumi_cli(which: Callable[[str], str | None] = shutil.which,
                     run: Callable[[list[str]], tuple[bool, str]] = _run) -> Check:
    path = cli_path(which)
    if path is None:
        return Check("pulumi CLI", "FAIL", f"not found: install it from {INSTALL_URL} and put `pulumi` on PATH "
                     "(when online, the deploy tasks install it into .pulumi-cli/ themselves)")
    ok, text = run([path, "version"])
    if not ok:
        return Check("pulumi CLI", "FAIL", f"{path} does not run ({text}): reinstall it from {INSTALL_URL}")
    return Check("pulumi CLI", "OK", f"{text} ({path})")


def check_aws(client_factory: Callable[[], Any] = sts_client) -> Check:
    try:
        return Check("AWS credentials", "OK", aws_identity(client_factory))
    except AwsCredentialsError as exc:
        return Check("AWS credentials", "FAIL", str(exc))


def check_buildx(which: Callable[[str], str | None] = shutil.which,
                 run: Callable[[list[str]], tuple[bool, str]] = _run) -> Check:
    why = "the app layer builds its arm64 image with it, unless catalog-app:imageUri names a prebuilt image"
    if which("docker") is None:
        return Check("docker buildx", "WARN", f"docker not found: install Docker with buildx ({why})")
    ok, text = run(["docker", "buildx", "version"])
    if not ok:
        return Check("docker buildx", "WARN", f"`docker buildx version` failed ({text}): install buildx ({why})")
    return Check("docker buildx", "OK", text)


def check_backend(flag: str | None, env: Mapping[str, str], aws_ok: bool,
                  s3_factory: Callable[[], Any] | None = None) -> Check:
    try:
        url, kind, state_dir = resolve_backend(flag, env)
    except BackendError as exc:
        return Check("state backend", "FAIL", str(exc))
    if kind == "file":
        assert state_dir is not None
        existing = next((p for p in (state_dir, *state_dir.parents) if p.exists()), Path("/"))
        if not os.access(existing, os.W_OK):
            return Check("state backend", "FAIL", f"{existing} is not writable: pick another --backend file://<dir>")
        note = "" if state_dir.exists() else " (created on the first deploy)"
        return Check("state backend", "OK", f"{url}{note}")
    if not aws_ok:
        return Check("state backend", "FAIL", f"{url}: needs working AWS credentials (see above)")
    bucket = url[len("s3://"):].split("/", 1)[0].split("?", 1)[0]
    try:
        (s3_factory or (lambda: _s3_client()))().head_bucket(Bucket=bucket)
    except Exception as exc:
        return Check("state backend", "FAIL", f"{url}: bucket {bucket} not reachable ({type(exc).__name__}): "
                     "create it (versioning on) or fix the name/permissions")
    return Check("state backend", "OK", url)


def _s3_client() -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client("s3", region_name=REGION, config=Config(connect_timeout=STS_CONNECT_TIMEOUT_S,
                                                                  read_timeout=5, retries={"max_attempts": 1}))


def check_passphrase(flag: str | None, env: Mapping[str, str], isatty: Callable[[], bool]) -> Check:
    try:
        provider, _, source = resolve_secrets(flag, env, isatty, ask=lambda _prompt: "")
    except PassphraseError as exc:
        return Check("secrets provider", "FAIL", str(exc))
    if provider != "passphrase":
        return Check("secrets provider", "OK", provider)
    if source == "typed at the terminal":
        return Check("secrets provider", "WARN", f"{PASSPHRASE_ENV} not set: tasks will ask for it at the "
                     f"terminal (CI must export {PASSPHRASE_ENV})")
    return Check("secrets provider", "OK", f"passphrase from {source}")


def run_doctor(
    backend: str | None = None,
    secrets_provider: str | None = None,
    env: Mapping[str, str] | None = None,
    *,
    which: Callable[[str], str | None] = shutil.which,
    run: Callable[[list[str]], tuple[bool, str]] = _run,
    sts_factory: Callable[[], Any] = sts_client,
    isatty: Callable[[], bool] = stdin_is_terminal,
) -> list[Check]:
    env = os.environ if env is None else env
    aws = check_aws(sts_factory)
    return [
        check_packages(),
        check_guardrails(),
        check_pulumi_cli(which, run),
        aws,
        check_buildx(which, run),
        check_backend(backend, env, aws.status == "OK"),
        check_passphrase(secrets_provider, env, isatty),
    ]
