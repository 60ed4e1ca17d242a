"""What a layer's Pulumi program imports at run time. Nothing here imports a tool product."""

APP = "catalog"
REGION = "us-east-1"
