"""The Lambda@Edge functions' physical names, from the suffix alone.

The edge program names its functions with this, and the teardown clean-up (`shared.deploy.edge_teardown`)
finds the functions it retained with it, so no state file is needed to delete them later.
"""

from __future__ import annotations

from shared.runtime.naming import Service, physical_name

# role (output prefix) -> naming kind
FUNCTION_KINDS: dict[str, str] = {"viewerRequest": "edge-auth", "originResponse": "edge-headers"}


def edge_function_names(suffix: str) -> dict[str, str]:
    """The physical names of the edge functions of `suffix` (role -> name)."""
    return {role: physical_name(kind, suffix, Service.LAMBDA) for role, kind in FUNCTION_KINDS.items()}
