"""What goes into the .pt: scripted or traced into CorridorKey.pt, so every operator here must load in
the oldest supported Nuke's torch (1.12.1; proven by the compatibility lanes).
"""
