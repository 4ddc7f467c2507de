"""Procedure code lists: typed when loaded (a typo fails loudly) and matched as code prefixes."""

from __future__ import annotations

import pandas as pd
import pytest

from rfd_lib.config import CODE_LISTS
from rfd_lib.metrics.code_lists import CodeListError, load_code_lists, starts_with_any

# value in the spell               matches A577 or Z993?
MATCHES = [
    ("A577", True),
    ("a577", True),  # case is ignored, as SQL Server's default collation does
    ("A5771", True),  # a 5-character code starts with A577
    ("A577X", True),
    ("||A577 ,Z993 ,Z942", True),
    ("||W401,Z993", True),  # a later code in the string
    ("||W401||Y534,Z993", True),  # a later episode
    ("XA577", False),  # not at the start of a code
    ("A57", False),
    ("||W401,Z99", False),
    (None, False),  # NULL matches nothing
]


@pytest.mark.parametrize("value,expected", MATCHES)
def test_codes_match_at_the_start_of_a_code(value, expected):
    codes = pd.Series([value], dtype="string")
    assert starts_with_any(codes, ("A577", "Z993")).tolist() == [expected]


def test_the_packaged_lists_load_with_codes_without_dots():
    lists = load_code_lists()
    assert lists.medial_branch_block.primary_procedure == ("A577", "A735")
    assert lists.facet_joint_injection.primary_procedure == ("V544",)
    assert lists.lumbar_site.codes == ("Z675", "Z676", "Z677", "Z993")
    assert lists.medial_branch_block.check_locally  # the report must say to check them locally


def test_a_block_needs_its_lumbar_site_code():
    spells = pd.DataFrame(
        {
            "Primary_Spell_Procedure": pd.Series(["A577", "A577", "V544", "A735", None], dtype="string"),
            "Any_Spell_Procedure": pd.Series(
                ["||A577,Z675", "||A577,Z942", "||V544,Z993", "||A735,Z677", None], dtype="string"
            ),
        }
    )
    lists = load_code_lists()
    assert lists.matches("medial_branch_block", spells).tolist() == [True, False, False, True, False]
    assert lists.matches("facet_joint_injection", spells).tolist() == [False, False, True, False, False]


@pytest.mark.parametrize(
    "codes,message",
    [("[A5.77]", "'A5.77' is not an OPCS-4 code"), ("[A57.7, 'M54.5X']", "'M54.5X' is not an OPCS-4 code")],
)
def test_a_code_that_is_not_opcs4_fails_the_load_naming_the_list(tmp_path, codes, message):
    text = CODE_LISTS.read_text(encoding="utf-8")
    path = tmp_path / "code_lists.yaml"
    path.write_text(
        text.replace("primary_procedure: [A57.7, A73.5]", f"primary_procedure: {codes}"), encoding="utf-8"
    )
    with pytest.raises(CodeListError) as error:
        load_code_lists(path)
    assert message in str(error.value) and "medial_branch_block.primary_procedure" in str(error.value)
    assert str(path) in str(error.value)
