"""Deploying the layers: the Invoke tasks' logic (`shared/cli/deploy.py` is only arguments and printing).

- `interface.StackBackend`: the seam to Pulumi; `automation.AutomationBackend` is the real one (Automation API,
  local programs), `memory.InMemoryBackend` the tests' stand-in.
- `runner.Orchestrator`: up / preview / down / refresh / drift / outputs / secrets, one layer or all, with the
  guards of `guards` and the AWS clean-ups of `cloud` (auto-scaled Aurora readers, retained Lambda@Edge).
- `environment`: state backend and secrets provider; `pulumi_cli`: find or install the CLI; `doctor`: checks.
- `session.open_session`: everything a task needs, checked in order before any stack is touched.
"""
