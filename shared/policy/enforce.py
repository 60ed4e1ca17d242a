"""Where deploys meet the guardrails: every `pulumi preview` and `pulumi up` the deploy tool runs passes this pack,
so a mandatory violation stops the update inside Pulumi's own engine, with the stack's real values."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import yaml

from shared.runtime.errors import CatalogError
from shared.runtime.layers import REPO_ROOT

PACK_DIR = Path(__file__).resolve().parent / "crossguard"


def require_pack(pack_dir: Path = PACK_DIR) -> list[str]:
    """The policy packs a deploy passes to Pulumi; refused in one line when the pack cannot run, because a preview
    or an update without the guardrails is not allowed."""
    where = pack_dir.relative_to(REPO_ROOT) if pack_dir.is_relative_to(REPO_ROOT) else pack_dir
    if not (pack_dir / "PulumiPolicy.yaml").is_file() or not (pack_dir / "__main__.py").is_file():
        raise CatalogError(f"the guardrails pack {where} is missing (PulumiPolicy.yaml, __main__.py): a deploy "
                           "without the guardrails is refused", "restore shared/policy/crossguard from git")
    if importlib.util.find_spec("pulumi_policy") is None:
        raise CatalogError("the guardrails pack needs the pulumi-policy package, which is not installed",
                           "pip install -e . (it is a dependency of the repository)")
    return [str(pack_dir)]


def pack_virtualenv_problem(pack_dir: Path = PACK_DIR, python_prefix: str = sys.prefix) -> str | None:
    """Pulumi starts the pack in the virtualenv its PulumiPolicy.yaml names (the repository's .venv): a tool run
    from another environment would deploy, then fail at the pack. `invoke doctor` reports it."""
    project = yaml.safe_load((pack_dir / "PulumiPolicy.yaml").read_text())
    venv = (pack_dir / project["runtime"]["options"]["virtualenv"]).resolve()
    if venv == Path(python_prefix).resolve():
        return None
    return (f"the guardrails pack runs in the virtualenv {venv}, but this Python is {python_prefix}: create it "
            f"there (python3 -m venv {venv} && {venv}/bin/pip install -e '.[dev]') and run invoke from it")
