"""The configuration an offline plan runs with: the user's overrides, checked, plus plan-only stand-ins."""

from __future__ import annotations

import secrets

from shared.declarations import settings_class
from shared.plan.identity import IDENTITY_KEYS, plan_only_identity
from shared.runtime.layers import LAYERS
from shared.runtime.settings import check_overrides, describe


def offline_config(overrides: dict[str, dict[str, str]]) -> tuple[dict[str, str], list[str]]:
    """Full config keys for the plan; secret settings not given get a random plan-only value."""
    config: dict[str, str] = {}
    secret_keys: list[str] = []
    for layer in LAYERS:
        cls = settings_class(layer.name)
        given = overrides.get(layer.name, {})
        if layer.name == "app" and not any(k in given for k in IDENTITY_KEYS):
            # Explicitly plan-only (a throw-away key): a real `up` without catalog-app:auth* stops with a
            # ConfigError naming the setting.
            given = {**plan_only_identity(), **given}
        check_overrides(cls, layer.project, given)
        for key, value in given.items():
            config[f"{layer.project}:{key}"] = value
        for info in describe(cls):
            if info.secret:
                full = f"{layer.project}:{info.key}"
                config.setdefault(full, f"plan-only-{secrets.token_urlsafe(12)}")
                secret_keys.append(full)
    return config, secret_keys
