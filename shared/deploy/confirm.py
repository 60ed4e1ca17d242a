"""The one question before a change to the cloud or to the state: `invoke up`, `up-all`, `down`, `down-all`,
`refresh` and the rehearsal's AWS run ask it after showing what would change, as `pulumi up` asks "Do you want to
perform this update?".

`--yes` answers it without asking (the pipelines pass it: there the approval is the pull request's preview and the
GitHub environment's reviewers). Without `--yes` and without a terminal to ask on, the task is refused before it
touches anything. An empty answer, "n", end of input or Ctrl-C at the question all mean no.
"""

from __future__ import annotations

import sys

from shared.runtime.errors import CatalogError


def no_terminal(verb: str) -> str:
    return (f"no terminal to ask before the change (stdin is not a TTY): add --yes to {verb} without a question "
            "(CI does)")


NO_TERMINAL = no_terminal("deploy")
YES = ("y", "yes")


class Confirmation:
    """`confirm(question) -> bool`: True only for "y"/"yes" typed at a terminal, or always with `yes`."""

    def __init__(self, yes: bool = False, verb: str = "deploy") -> None:
        self.yes = yes
        self.verb = verb  # what --yes lets happen without the question: deploy, destroy

    def require_terminal(self) -> None:
        """Refuse up front (CatalogError, one line) when the question could not be asked."""
        if self.yes:
            return
        stdin = sys.stdin
        if stdin is None or stdin.closed or not stdin.isatty():
            raise CatalogError(no_terminal(self.verb))

    def __call__(self, question: str) -> bool:
        if self.yes:
            return True
        self.require_terminal()
        try:
            answer = input(f"{question} [y/N] ")  # reads sys.stdin as it is at the call (the tests give it one)
        except (EOFError, KeyboardInterrupt):
            # The prompt line stays open after ^C or ^D: end it, so the caller's one line stands on its own.
            print(flush=True)
            return False
        return answer.strip().lower() in YES
