"""App layer (owner: product team): the Catalog API on Lambda behind an ALB and API Gateway."""
