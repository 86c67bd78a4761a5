"""End-to-end render check: synthetic green-screen plate -> exported model in the C++ host (as Nuke runs it)
-> the gizmo's Colorspace and Premult maths -> a PNG contact sheet a person can look at.

`python -m tools.render_check --pt build/CorridorKey.pt --out build/render_check.png`
"""
