"""What other interpreters run: the compatibility lanes' probe (a torch of one Nuke release), the
operator proof (portable_ops.json) and the self-test model's generator and check. lane_check.py is run
by path with torch and the standard library only.
"""
