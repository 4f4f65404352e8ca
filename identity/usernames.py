"""User names and display names: what an account may be called.

A user name is taken exactly as given: one with spaces around it is refused rather than trimmed, so
that ``"admin "`` can never be a second ``admin``. It has 3 to 32 characters, each an ASCII letter or
digit, ``.``, ``_``, ``-`` or a CJK ideograph, and starts with a letter, digit or ideograph: no markup,
no spaces, no look-alike full-width letters. A display name (shown on pages and in exports) has at
most 60 characters and no markup or control characters.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["NAME_PATTERN", "check_display_name", "check_username"]

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
#: What a user name may be.
NAME_PATTERN = re.compile(rf"[A-Za-z0-9{_CJK}][A-Za-z0-9._\-{_CJK}]{{2,31}}")
_MARKUP = re.compile(r"[<>&\"'`]")


def check_username(raw: str) -> str:
    """Return ``raw`` when it is an acceptable user name.

    Parameters
    ----------
    raw : str
        The user name as typed.

    Returns
    -------
    str
        The same text.

    Raises
    ------
    ValueError
        Naming the problem, in Chinese and English.
    """
    if raw != raw.strip():
        raise ValueError(f"用户名前后不能有空格 / a user name must not start or end with spaces: {raw!r}")
    if not 3 <= len(raw) <= 32:
        raise ValueError(f"用户名须为 3–32 个字符 / a user name has 3 to 32 characters: {raw!r}")
    if not NAME_PATTERN.fullmatch(raw):
        raise ValueError(f"用户名只能包含字母、数字、汉字和 . _ -，并以字母、数字或汉字开头 / a user name has only "
                         f"letters, digits, Chinese characters and . _ - and starts with a letter, digit or "
                         f"Chinese character: {raw!r}")
    return raw


def check_display_name(raw: str) -> str:
    """Return ``raw`` when it is an acceptable display name.

    Parameters
    ----------
    raw : str
        The display name as typed.

    Returns
    -------
    str
        The same text.

    Raises
    ------
    ValueError
        For spaces around it, more than 60 characters, markup or control characters.
    """
    if raw != raw.strip() or not raw:
        raise ValueError(f"姓名不能为空，前后不能有空格 / a display name is not empty and has no spaces around it: "
                         f"{raw!r}")
    if len(raw) > 60:
        raise ValueError(f"姓名至多 60 个字符 / a display name has at most 60 characters: {raw[:20]!r}…")
    if _MARKUP.search(raw) or any(unicodedata.category(c).startswith("C") for c in raw):
        raise ValueError(f"姓名不能包含标记或控制字符（< > & \" ' `）/ a display name must not contain markup or "
                         f"control characters: {raw!r}")
    return raw
