"""Compatibility lanes: the build proven in the torch of every supported Nuke (run by tools/compat.sh)."""
