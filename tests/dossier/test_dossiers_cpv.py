"""CPV codes: the form is checked (eight digits, a dash, one digit), the check digit is not.

The algorithm in the EU's CPV documentation does not reproduce the check digits of the official
2008 list, as the Commission confirmed in 2024 (OP-TED/ePO discussion 589). These codes, with the
check digits the official list gives them, must keep being accepted, so nobody "fixes" the
check with the documented algorithm and starts refusing real codes.

Nor is there another formula to fall back on: of 248 codes from published notices, 234 fit a
weighted sum (weights 3, 7, 1 repeated, modulo 10), but 14 do not, among them codes as common as
72400000-4 (internet services) and 72600000-6 (computer support). Only the official list itself
could check the digit; it is not shipped (a later issue may add it as data).
"""

from __future__ import annotations

import pytest
from flask import Flask

from dossier import dossiers
from dossier.errors import ValidationError

pytestmark = pytest.mark.any_database

# Codes with the check digits of the official list (Regulation (EC) No 213/2008).
OFFICIAL = [
    "03300000-2",
    "03113100-7",
    "03113200-8",
    "18451000-5",
    "18453000-9",
    "71355000-1",
    "71355200-3",
    "72000000-5",
    # These do not fit the 3-7-1 weighting that most codes follow.
    "72400000-4",
    "72600000-6",
    "72212100-0",
    "35125300-2",
]


@pytest.mark.parametrize("code", OFFICIAL)
def test_official_cpv_codes_are_accepted(app: Flask, code: str) -> None:
    dossiers.validate({"reference": "2025-001", "title": "Contract", "cpv_code": code})


@pytest.mark.parametrize("code", ["72000000", "7200000-5", "72000000-55", "72.000.000-5"])
def test_a_malformed_cpv_code_is_refused(app: Flask, code: str) -> None:
    with pytest.raises(ValidationError) as caught:
        dossiers.validate({"reference": "2025-001", "title": "Contract", "cpv_code": code})
    assert set(caught.value.errors) == {"cpv_code"}
