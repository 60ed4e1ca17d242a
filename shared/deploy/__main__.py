"""`python -m shared.deploy up|preview|drift|outputs|install ...`: the deploy tool without other teams' tasks."""

from invoke import Program

from shared.deploy.pipeline import ns

Program(namespace=ns, name="catalog deploy", binary="python -m shared.deploy").run()
