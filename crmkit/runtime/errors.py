"""The one base class of the kit's errors.

Every error the kit raises on purpose (bad input, a refused action, a failed nbgrader step)
derives from :class:`KitError`. The command line turns it into a message on stderr and the exit
status :attr:`KitError.exit_status`; anything else is a bug and shows its traceback.
"""

from __future__ import annotations


class KitError(Exception):
    """An error the kit expected: the message says what is wrong, where, and how to fix it."""

    #: the command line's exit status for this error (2: bad input or refused)
    exit_status = 2
