"""``python -m nuke_plugin.headless``: the documented command for headless builds (code: nuke_plugin.cli.headless;
also installed as the ``corridorkey-headless`` console script)."""
import sys

from nuke_plugin.cli.headless import main

if __name__ == "__main__":
    sys.exit(main())
