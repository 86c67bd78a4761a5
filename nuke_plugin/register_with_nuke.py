"""``python -m nuke_plugin.register_with_nuke``: the documented one-step install (code: nuke_plugin.cli.register;
also installed as the ``corridorkey-register`` console script)."""
import sys

from nuke_plugin.cli.register import main

if __name__ == "__main__":
    sys.exit(main())
