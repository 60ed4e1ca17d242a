"""The deploy tool on its own, as the pipelines' credentialed jobs run it: `python -m shared.deploy <task>`.

Only platform-owned code loads here (the deploy tasks and the deploy-time install, and through them
shared/runtime, shared/policy and shared/plan). `tasks.py` also loads other teams' task modules (operations' sale,
capacity and cost tools), which then would run next to a deploy role with only that team's review;
tests/test_structure.py holds this module's import closure to the platform's rooms.
"""

from __future__ import annotations

from invoke import Collection

from shared.deploy import tasks as deploy
from shared.dev import install

ns = Collection(deploy.up, deploy.preview, deploy.drift, deploy.outputs, install)
