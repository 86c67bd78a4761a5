"""Pure logic of the Nuke side that needs neither Nuke, Qt nor a subprocess: settings, folders, the install
layout, the gizmo writer, staging, the manifest reader and the errors shown to the artist.

May import: the standard library and nuke_plugin.contract.
"""
