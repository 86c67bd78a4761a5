"""End-to-end render check: synthetic green-screen plate -> the gizmo's built-in hint (its Hint input left unconnected;
--hint plate gives the plate's eroded matte instead) -> exported model in the C++ host (as Nuke runs it), twice as
the gizmo's network and CleanUp nodes run it -> the gizmo's Despill, Colorspace and Premult maths and its Output
"Over checkerboard (preview)" -> a PNG contact sheet a person can look at. Knobs start at the gizmo's own defaults
(Input Gamma Linear: the plate enters linear).

`.venv/bin/python -m tools.render_check --pt build/CorridorKey.pt --out build/render_check.png` (the export
environment: `bash tools/export.sh` or `bash tools/test.sh` creates `.venv`)
"""
