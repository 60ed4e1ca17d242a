"""The offline planner: each layer's real program under Pulumi mocks, with no AWS account and no Pulumi CLI."""
