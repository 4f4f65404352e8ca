"""统一社会信用代码 (GB 32100-2015) format and check-character validation."""

from __future__ import annotations

import re

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 31 characters: no I, O, Z, S, V
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_PATTERN = re.compile(r"^[0-9A-HJ-NP-RTUW-Y]{2}[0-9]{6}[0-9A-HJ-NP-RTUW-Y]{10}$")
#: Weights of the GB 11714 organisation code (characters 9-17 of a credit code carry one).
ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def check_character(body: str) -> str:
    """Return the check character for the first 17 characters of a credit code.

    Parameters
    ----------
    body : str
        17 characters from :data:`CHARSET`.

    Returns
    -------
    str
        The 18th character.

    Examples
    --------
    >>> check_character("91350100M000100Y4")
    '3'
    """
    total = sum(CHARSET.index(ch) * w for ch, w in zip(body, WEIGHTS, strict=True))
    return CHARSET[(31 - total % 31) % 31]


def organization_check_character(body: str) -> str:
    """Return the GB 11714 check character of a 9-character organisation code.

    Characters 9-17 of a credit code are an organisation code: eight digits or capital letters
    and this check character.

    Parameters
    ----------
    body : str
        The first 8 characters (digits or capital letters).

    Returns
    -------
    str
        ``0``-``9`` or ``X``.

    Examples
    --------
    >>> organization_check_character("M000100Y")  # of the GB 32100 example 91350100M000100Y43
    '4'
    >>> organization_check_character("D2143569")
    'X'
    """
    total = sum(int(ch, 36) * w for ch, w in zip(body, ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return "X" if check == 10 else "0" if check == 11 else str(check)


def credit_code_problem(code: str) -> str | None:
    """Explain what is wrong with ``code``, or return None when it is valid.

    Parameters
    ----------
    code : str
        Candidate 统一社会信用代码 (upper case, no spaces).

    Returns
    -------
    str or None
        A bilingual reason, or None.

    Examples
    --------
    >>> credit_code_problem("91350100M000100Y43") is None
    True
    >>> credit_code_problem("91350100M000100Y44")
    '校验位应为 3 / check character should be 3'
    """
    if len(code) != 18:
        return f"应为18位，实为{len(code)}位 / must be 18 characters, got {len(code)}"
    if not _PATTERN.match(code):
        bad = sorted({ch for ch in code if ch not in CHARSET})
        if bad:
            return f"含非法字符 {''.join(bad)} / invalid characters {''.join(bad)} (no I, O, Z, S, V)"
        return "第3-8位应为行政区划码数字 / characters 3-8 must be the digits of an adcode"
    expected = check_character(code[:17])
    if code[17] != expected:
        return f"校验位应为 {expected} / check character should be {expected}"
    return None
