"""The catalog platform's own Python package: naming, config, tags, contracts, layers and the offline planner."""

APP = "catalog"
REGION = "us-east-1"
