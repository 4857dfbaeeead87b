"""Every exit code halosync and halosyncctl end with, in one place (the BSD ``sysexits.h`` values where one fits).

Errors carry theirs as ``HalosyncError.exit_code`` (``errors.py``), control-socket error codes map to them in
``control.protocol.EXIT_CODES``, and the commands return them: all three read the names below, so a code the
CONTRACT lists cannot drift between them.
"""

from __future__ import annotations

EX_OK = 0  # done; nothing wrong
EX_PROBLEMS = 1  # the command ran and found (or met) a problem: a failed check, a failed source, a firing alert
EX_USAGE = 2  # bad arguments (argparse's own code)
EX_UNAVAILABLE = 69  # the daemon, the engine or a sink is not there
EX_TEMPFAIL = 75  # another daemon holds the control socket: try again later
EX_NOPERM = 77  # permission denied (a file, the socket, or a provider's 403)
EX_CONFIG = 78  # the configuration is invalid, or a plugin cannot be loaded
