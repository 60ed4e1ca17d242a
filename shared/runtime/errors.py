"""Errors that stop a task or a program before anything changes, each with a way out."""

from __future__ import annotations


class CatalogError(Exception):
    """A refusal the user can act on: `str()` is one line saying what is wrong and what to do."""

    def __init__(self, problem: str, fix: str | None = None) -> None:
        self.problem = problem
        self.fix = fix
        super().__init__(f"{problem} ({fix})" if fix else problem)


class SuffixError(CatalogError):
    """The environment suffix breaks the naming rule."""


class ConfigError(CatalogError):
    """A config key is unknown or its value is not allowed."""


class ContractError(CatalogError):
    """A layer exports or reads an output the contract does not declare, or an upstream output is missing."""


class NamingError(CatalogError):
    """A physical name cannot be made within a service's limits."""
