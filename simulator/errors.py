"""One-line user errors: ``error: FILE: path.to.field: what is wrong (what was expected)``.

Every user-facing failure (bad scenario, bad profile file, existing output folder)
is raised as :class:`InputError` and printed by the CLI as exactly one line, exit code 2.
"""
from __future__ import annotations

from collections.abc import Sequence

EXIT_INPUT_ERROR = 2


class InputError(Exception):
    """Bad user input; ``str()`` is the complete one-line message."""

    def __init__(self, source: str, field: str, message: str):
        self.source, self.field, self.message = source, field, message
        super().__init__(f"{source}: {field}: {message}" if field else f"{source}: {message}")


def dotted_path(loc: Sequence[str | int]) -> str:
    """``("tenants", 0, "annual_use_mwh")`` -> ``tenants[0].annual_use_mwh``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


class RunInterrupted(Exception):
    """A run stopped by SIGINT or SIGTERM after it removed what it had written.

    The CLI prints ``interrupted: nothing written to DIR`` and exits 128 + the signal number.
    """

    def __init__(self, out_dir, signum: int, written: bool = False):
        self.out_dir, self.signum = out_dir, signum
        if written:  # the signal came as the complete folder was being moved into place
            super().__init__(f"interrupted: the results were already written to {out_dir}")
        else:
            super().__init__("interrupted: nothing written" + (f" to {out_dir}" if out_dir is not None else ""))
