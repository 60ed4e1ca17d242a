"""Deploying the layers: the Invoke tasks' logic (`tasks.py` here is only arguments and printing).

- `interface.StackBackend`: the seam to Pulumi; `automation.AutomationBackend` is the real one (Automation API,
  local programs), `tests/support/memory.py` the tests' stand-in.
- `runner.Orchestrator`: up / preview / down / refresh / drift / outputs / secrets, one layer or all, with the
  guards of `guards` and the AWS clean-ups of `cloud` (auto-scaled Aurora readers, retained Lambda@Edge).
- `environment`: state backend and secrets provider; `pulumi_cli`: find or install the CLI; `doctor`: checks.
- `session.open_session`: everything a task needs, checked in order before any stack is touched.

What other products may use (their only way in): the stack backend seam, a session over it, the engine progress
lines the deploy tasks print, and the question before a change with the list of changes it follows (so a product
driving its own stack, e.g. the rehearsal's, prints and asks the same way).
"""

from shared.deploy.confirm import Confirmation
from shared.deploy.interface import ConfigEntry, OperationFailed, ResourceEvent, StackBackend, output_value
from shared.deploy.pulumi_cli import cli_path
from shared.deploy.report import ChangeList, format_changes, format_event
from shared.deploy.session import open_session

__all__ = ["ChangeList", "ConfigEntry", "Confirmation", "OperationFailed", "ResourceEvent", "StackBackend",
           "cli_path", "format_changes", "format_event", "open_session", "output_value"]
