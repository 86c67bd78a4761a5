"""End-to-end render check: synthetic green-screen plate -> exported model in the C++ host (as Nuke runs it)
-> the gizmo's Colorspace and Premult maths -> a PNG contact sheet a person can look at.

`.venv/bin/python -m tools.render_check --pt build/CorridorKey.pt --out build/render_check.png` (the export
environment: `bash tools/export.sh` or `bash tools/test.sh` creates `.venv`)
"""
