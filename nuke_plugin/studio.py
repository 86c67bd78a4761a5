"""``python -m nuke_plugin.studio``: the documented command for studio installs (code: nuke_plugin.cli.studio;
also installed as the ``corridorkey-studio`` console script)."""
import sys

from nuke_plugin.cli.studio import main

if __name__ == "__main__":
    sys.exit(main())
