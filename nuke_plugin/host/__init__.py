"""The only layer that imports `nuke` (at call time): the .cat builder, the plugin path, the finishing step,
node insertion, the background build job and the script NukeX runs for headless builds.

May import: the standard library, `nuke`, nuke_plugin.contract, nuke_plugin.core and nuke_plugin.runner.
"""
