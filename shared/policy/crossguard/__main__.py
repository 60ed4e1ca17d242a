"""The catalog's guardrails as a Pulumi policy pack: `pulumi preview --policy-pack shared/policy/crossguard`.

The rules live in `shared/policy/` (pure functions over resource inputs, also run on the offline plan by
`invoke synth` and `invoke check`); this file only starts the pack. See docs/policy.md.
"""

import sys
from pathlib import Path

# The pack runs from this folder with the repo's virtualenv; make the repo importable even without the editable
# install (shared/policy/crossguard/ -> the repository root).
sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from pulumi_policy import PolicyPack

from shared.policy.pack import PACK_NAME, build_policies

PolicyPack(
    name=PACK_NAME,
    policies=build_policies(),
    description="Catalog platform guardrails: the mission's constraints and AWS's deploy-time rules.",
)
