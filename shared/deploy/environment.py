"""Where state lives and how secrets are encrypted: resolved once per task, before any stack is touched.

- State: `file://<repo>/.pulumi-state` by default; `--backend` or `PULUMI_BACKEND_URL` for `file://<dir>` or
  `s3://<bucket>[/prefix]`. Anything else is refused (the stack references assume a self-managed backend).
- Secrets: one provider for every stack, so each layer can decrypt what another exports as a secret: the
  passphrase (`PULUMI_CONFIG_PASSPHRASE` or `PULUMI_CONFIG_PASSPHRASE_FILE`, else asked on a terminal) or
  `--secrets-provider awskms://...` (also `CATALOG_SECRETS_PROVIDER`).
"""

from __future__ import annotations

import getpass
import os
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from shared.runtime.errors import CatalogError
from shared.runtime.layers import REPO_ROOT

DEFAULT_STATE_DIR = REPO_ROOT / ".pulumi-state"
BACKEND_ENV = "PULUMI_BACKEND_URL"
PASSPHRASE_ENV = "PULUMI_CONFIG_PASSPHRASE"
PASSPHRASE_FILE_ENV = "PULUMI_CONFIG_PASSPHRASE_FILE"
SECRETS_PROVIDER_ENV = "CATALOG_SECRETS_PROVIDER"
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


class BackendError(CatalogError):
    """The state backend URL is not one we support."""


class PassphraseError(CatalogError):
    """No way to decrypt the stacks' secrets."""


@dataclass(frozen=True)
class DeployEnvironment:
    backend_url: str
    backend_kind: str  # "file" or "s3"
    secrets_provider: str  # "passphrase" or "awskms://..."
    env_vars: dict[str, str] = field(default_factory=dict)  # passed to every Pulumi command
    state_dir: Path | None = None  # for file backends
    passphrase_source: str = ""  # for `doctor`: where the passphrase comes from


def resolve_backend(flag: str | None, env: Mapping[str, str]) -> tuple[str, str, Path | None]:
    """Return (url, kind, state_dir). Relative file paths are made absolute: Pulumi runs in each project dir."""
    source = "--backend" if flag else BACKEND_ENV
    raw = (flag or env.get(BACKEND_ENV) or "").strip()
    if not raw:
        return f"file://{DEFAULT_STATE_DIR}", "file", DEFAULT_STATE_DIR
    fix = f"use file://<dir> (default file://{DEFAULT_STATE_DIR}) or s3://<bucket>[/prefix]"
    if raw.startswith("file://"):
        path_text = raw[len("file://"):].split("?", 1)[0]
        if not path_text:
            raise BackendError(f"{source} {raw!r} names no folder", fix)
        path = Path(path_text).expanduser()
        if not path.is_absolute():
            path = (Path.cwd() / path).resolve()
        return f"file://{path}", "file", path
    if raw.startswith("s3://"):
        bucket = urlparse(raw).netloc
        if not _BUCKET.match(bucket):
            raise BackendError(f"{source} {raw!r} has no valid S3 bucket name", fix)
        return raw, "s3", None
    raise BackendError(f"{source} {raw!r} is not a file:// or s3:// backend", fix)


def resolve_secrets(
    flag: str | None,
    env: Mapping[str, str],
    isatty: Callable[[], bool],
    ask: Callable[[str], str],
) -> tuple[str, dict[str, str], str]:
    """Return (secrets_provider, extra env vars, where the passphrase comes from)."""
    provider = (flag or env.get(SECRETS_PROVIDER_ENV) or "passphrase").strip()
    if provider.startswith("awskms://"):
        return provider, {}, provider
    if provider != "passphrase":
        raise PassphraseError(
            f"secrets provider {provider!r} is not supported",
            "use the passphrase (default) or --secrets-provider awskms://alias/<key>?region=us-east-1",
        )
    if PASSPHRASE_ENV in env:
        return provider, {}, PASSPHRASE_ENV
    passphrase_file = env.get(PASSPHRASE_FILE_ENV)
    if passphrase_file:
        if not Path(passphrase_file).expanduser().is_file():
            raise PassphraseError(f"{PASSPHRASE_FILE_ENV} names {passphrase_file!r}, which is not a file",
                                  f"point it at a file holding the passphrase, or set {PASSPHRASE_ENV}")
        return provider, {}, PASSPHRASE_FILE_ENV
    if not isatty():
        raise PassphraseError(
            f"{PASSPHRASE_ENV} is not set and there is no terminal to ask for the passphrase",
            f"export {PASSPHRASE_ENV} (or {PASSPHRASE_FILE_ENV}=<file>), "
            "or pass --secrets-provider awskms://alias/<key>",
        )
    value = ask("Passphrase for the catalog stacks' secrets (same for every stack): ")
    return provider, {PASSPHRASE_ENV: value}, "typed at the terminal"


def stdin_is_terminal() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except ValueError:  # closed stdin
        return False


def resolve_environment(
    backend: str | None = None,
    secrets_provider: str | None = None,
    env: Mapping[str, str] | None = None,
    isatty: Callable[[], bool] | None = None,
    ask: Callable[[str], str] = getpass.getpass,
) -> DeployEnvironment:
    """Check the backend and the secrets provider; nothing is created here."""
    env = os.environ if env is None else env
    url, kind, state_dir = resolve_backend(backend, env)
    provider, extra, source = resolve_secrets(secrets_provider, env, isatty or stdin_is_terminal, ask)
    env_vars = {BACKEND_ENV: url, "PULUMI_SKIP_UPDATE_CHECK": "true", **extra}
    return DeployEnvironment(url, kind, provider, env_vars, state_dir, source)


def prepare_state_dir(environment: DeployEnvironment) -> None:
    """Create the file backend's folder (Pulumi refuses a missing one)."""
    if environment.state_dir is not None:
        environment.state_dir.mkdir(parents=True, exist_ok=True)
