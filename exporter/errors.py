"""Errors the exporter reports to the user (exit code 2) as opposed to bugs (exit code 1)."""


class ExportError(Exception):
    """Something the user can fix; the message says what is wrong and what to do."""


class ExportCancelled(Exception):
    """The export was interrupted (Ctrl+C, or the Nuke side ended the process)."""
