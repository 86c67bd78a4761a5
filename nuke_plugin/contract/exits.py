"""Exit codes of every command (the exporter, the headless build, the NukeX build script, registration), and
how the Nuke side reads the exporter's."""
from __future__ import annotations

EXIT_OK = 0
EXIT_INTERNAL = 1  # a bug: a traceback goes to stderr
EXIT_USER = 2  # something the user can fix: the message says how
EXIT_CANCELLED = 130  # Ctrl+C, or a cancel from Nuke (SIGTERM / CTRL_BREAK); nothing partial is left
