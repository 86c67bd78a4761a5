"""One edition rule, one message: the menu, the Build Model command and the .cat builder agree."""
import pytest

from nuke_plugin.core.errors import EditionError
from nuke_plugin.host import cat_builder
from nuke_plugin.host.edition import EDITION_MESSAGE, cat_files_supported
from nuke_plugin.ui import commands


class _PastTheCheck(Exception):
    pass


@pytest.mark.parametrize("edition, supported", [("nuke", False), ("nukex", True), ("studio", True), ("indie", True)])
def test_every_entry_point_follows_the_same_rule(fake_nuke, monkeypatch, tmp_path, edition, supported):
    fake_nuke.fake_set_edition(edition)
    assert cat_files_supported() is supported

    def past_the_check():  # the command's next step after the edition check
        raise _PastTheCheck()

    monkeypatch.setattr(commands.build_job, "build_running", past_the_check)
    if supported:
        with pytest.raises(_PastTheCheck):  # Indie and Studio get the dialog too, not only NukeX
            commands.open_build_dialog()
        assert not fake_nuke.fake_dialogs_of("message")
    else:
        assert commands.open_build_dialog() is None
        assert fake_nuke.fake_dialogs_of("message") == [EDITION_MESSAGE]
        with pytest.raises(EditionError) as raised:
            cat_builder.build_cat(None, str(tmp_path / "x.cat"))  # refused before the manifest is looked at
        assert str(raised.value) == EDITION_MESSAGE


def test_the_message_names_every_edition_that_can_build():
    for name in ("NukeX", "Nuke Studio", "Nuke Indie", "plain Nuke"):
        assert name in EDITION_MESSAGE
