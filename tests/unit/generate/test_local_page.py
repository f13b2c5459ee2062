"""docs/local.md's list of what the emulator does not create is rendered from tapstack/local/gaps.py, the
knowledge the local deploy's progress note names (tests/integration/test_deploy.py holds it to what the
emulator really skips), and the committed page is current."""

import pytest

from tapstack.exits import CommandError
from tapstack.generate.local_page import BEGIN, END, LOCAL_PAGE, with_emulator_gaps
from tapstack.local.gaps import EMULATOR_GAPS
from tests.support.report import committed_template

TEMPLATE = committed_template()


def test_the_committed_page_lists_every_gap_as_the_code_knows_it() -> None:
    page = LOCAL_PAGE.read_text(encoding="utf-8")
    count, *listed = page[page.index(BEGIN) + len(BEGIN) : page.index(END)].strip().splitlines()

    assert page == with_emulator_gaps(page, TEMPLATE)
    assert "with `params/local.json`" in count
    assert len(listed) == len(EMULATOR_GAPS)
    for gap, line in zip(EMULATOR_GAPS, listed, strict=True):
        assert line.startswith(f"- {', '.join(f'`{kind}`' for kind in gap.types)}: ")
        assert gap.instead in line


def test_a_hand_edited_list_is_rendered_back_and_the_prose_around_it_kept() -> None:
    page = f"intro\n{BEGIN}\n- `AWS::WAFv2::WebACL`: created locally\n{END}\nafter\n"

    rendered = with_emulator_gaps(page, TEMPLATE)

    assert "created locally" not in rendered
    assert rendered.startswith(f"intro\n{BEGIN}\nThe deploy's progress ends at `[")
    assert rendered.endswith(f"{END}\nafter\n")


def test_a_page_without_the_markers_is_refused_naming_them() -> None:
    with pytest.raises(CommandError, match="lacks the lines"):
        with_emulator_gaps("no markers here\n", TEMPLATE)
