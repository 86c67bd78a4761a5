"""Other processes: the streaming subprocess runner, the exporter client, the export-environment probe and set-up.

May import: the standard library, nuke_plugin.contract and nuke_plugin.core. Never `nuke`, never Qt.
"""
