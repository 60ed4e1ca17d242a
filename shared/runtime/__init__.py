"""What a layer's Pulumi program imports at run time. Nothing here imports `shared.tooling`."""

APP = "catalog"
REGION = "us-east-1"
