"""The catalog platform's own Python package, in two floors.

- `shared.runtime`: what a layer's Pulumi program imports while `pulumi up` runs it (naming, tags, typed settings,
  the stack-output contract machinery, errors, building blocks, AWS constants). It imports nothing of `tooling`.
- `shared.tooling`: what runs around the programs (Invoke tasks, Automation API orchestration, the offline planner,
  guardrails, generated docs, the capacity model and the performance report). It may use `runtime`, never the
  reverse, and it reaches a layer's declarations only through `shared.tooling.declarations`.
"""
