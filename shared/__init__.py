"""The catalog platform's own Python package: one room per audience and product.

- `shared.runtime`: what a layer's Pulumi program imports while `pulumi up` runs it (naming, tags, typed settings,
  the stack-output contract machinery, errors, building blocks, AWS constants). It imports no tool product.
- The tool products, each a package with its own README and owner: `deploy` (tasks over the Automation API),
  `plan` (the offline plan and generated docs), `policy` (the guardrails), `ops` (capacity, benchmarks, sale
  windows), `dev` (local development). A product reaches a sibling only through the sibling's package interface
  (`from shared.plan import Plan`), never its modules; `tests/test_structure.py` enforces it.
- Two small shared interfaces: `console` (how tasks read arguments and refuse bad input) and `declarations` (what
  the tools may know of a layer: settings class, outputs contract, upstream reads).
"""
