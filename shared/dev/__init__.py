"""Local development: the pinned Node.js the suites run on, install, test and the local API.

What other products may use (their only way in): the Node.js version and its environment. See README.md.
"""

from shared.dev.node_runtime import NODE_VERSION, installed_version, node_env
from shared.dev.tasks import install

__all__ = ["NODE_VERSION", "install", "installed_version", "node_env"]
