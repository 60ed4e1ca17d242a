"""The catalog's guardrails as a Pulumi policy pack: `pulumi preview --policy-pack policy` in any layer.

The rules live in `shared/guardrails/` (pure functions over resource inputs, also run on the offline plan by
`invoke synth` and `invoke check`); this file only starts the pack. See docs/policy.md.
"""

import sys
from pathlib import Path

# The pack runs from policy/ with the repo's virtualenv; make the repo importable even without the editable install.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi_policy import PolicyPack

from shared.tooling.guardrails.pack import PACK_NAME, build_policies

PolicyPack(
    name=PACK_NAME,
    policies=build_policies(),
    description="Catalog platform guardrails: the mission's constraints and AWS's deploy-time rules.",
)
