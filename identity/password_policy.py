"""The password policy: long enough, not common, not guessable from the account or the product.

A password is refused, with every reason in Chinese and English, when it

- has fewer than :data:`MIN_LENGTH` characters (or more than bcrypt's 72 bytes);
- consists of digits only, of one character repeated or of a short piece repeated (``abcabcabcabc``);
- is a common password (``identity/common_passwords.txt``), also once digits and symbols are taken off
  its ends and look-alike characters are undone (``P@ssw0rd2026!`` is ``password``);
- is mostly a keyboard, alphabet or digit run (``qwertyuiop12``, ``1234567890ab``);
- contains the user name or the display name;
- is mostly ``riskmap``, ``kunming`` or another name of the product, the city or its districts.

The thresholds are this module's constants, after NIST SP 800-63B §5.1.1.2 (length, a list of common
and context-specific words, no composition rules beyond "not digits only") and GB/T 22239-2019
8.1.4.1 a) (鉴别信息具有复杂度要求).
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

__all__ = ["MAX_BYTES", "MIN_LENGTH", "PasswordRejected", "password_problems", "require_password"]

#: Fewest characters of a password.
MIN_LENGTH = 12
#: bcrypt reads at most this many bytes; longer passwords are refused rather than cut silently.
MAX_BYTES = 72
#: A password whose characters outside runs, common words and names number fewer than this is refused.
MIN_REST = 6
_LEET = str.maketrans({"@": "a", "4": "a", "0": "o", "1": "l", "!": "i", "3": "e", "5": "s", "$": "s", "7": "t",
                       "8": "b", "9": "g", "2": "z", "|": "l", "+": "t"})
_LEET_I = str.maketrans({"1": "i", "!": "i", "|": "i"})
_SEQUENCES = ("abcdefghijklmnopqrstuvwxyz", "01234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm",
              "qazwsxedcrfvtgbyhnujmikolp", "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p", "1q2w3e4r5t6y7u8i9o0p",
              "zaq1xsw2cde3vfr4bgt5nhy6mju7")
#: Names of the product, the city, the province and the districts (pinyin and Chinese).
PLACE_WORDS = ("riskmap", "risk", "kunming", "yunnan", "anquan", "fengxian", "yizhangtu", "dianchi", "wuhua",
               "panlong", "guandu", "xishan", "dongchuan", "chenggong", "jinning", "anning", "songming", "yiliang",
               "shilin", "luquan", "xundian", "fumin", "昆明", "云南", "安全", "风险", "一张图", "滇池")


class PasswordRejected(ValueError):
    """A password the policy refuses; ``reasons`` holds (Chinese, English) pairs."""

    def __init__(self, reasons: list[tuple[str, str]]) -> None:
        self.reasons = reasons
        super().__init__("; ".join(f"{zh} / {en}" for zh, en in reasons))


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """Return the shipped list of common passwords (lower case)."""
    body = resources.files("identity").joinpath("common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip() for line in body.splitlines() if line.strip() and not line.startswith("#"))


def _forms(password: str) -> set[str]:
    """Return the password lower-cased, with look-alikes undone, and both with digits/symbols off the ends."""
    low = password.lower()
    core = re.sub(r"^[\W\d_]+|[\W\d_]+$", "", low)
    out = {low, core, *(f.translate(table) for f in (low, core) for table in (_LEET, _LEET_I))}
    for form in list(out):
        out.add(re.sub(r"^[\W\d_]+|[\W\d_]+$", "", form))
        out.add(re.sub(r"[\W_]+", "", form))
    return {f for f in out if f}


def _runs(text: str, shortest: int = 3) -> list[tuple[int, int]]:
    """Return (start, end) of every stretch of ``text`` that is a forward or backward run of a sequence."""
    spans = []
    i = 0
    while i < len(text):
        best = 0
        for seq in _SEQUENCES:
            for s in (seq, seq[::-1]):
                n = 0
                while i + n < len(text) and text[i:i + n + 1] in s:
                    n += 1
                best = max(best, n)
        if best >= shortest:
            spans.append((i, i + best))
            i += best
        else:
            i += 1
    return spans


def _without(text: str, words: list[str]) -> str:
    """Return ``text`` without every occurrence of ``words`` (longest first) and without runs."""
    for word in sorted({w for w in words if w}, key=len, reverse=True):
        text = text.replace(word, "\0")
    kept = []
    last = 0
    for start, end in _runs(text):
        kept.append(text[last:start])
        last = end
    kept.append(text[last:])
    return "".join(kept).replace("\0", "")


def _repeated(password: str) -> bool:
    low = password.lower()
    if len(set(low)) <= 2:
        return True
    return any(len(low) % n == 0 and low == low[:n] * (len(low) // n) for n in range(1, len(low) // 2 + 1))


def password_problems(password: str, *, username: str | None = None,
                      display_name: str | None = None) -> list[tuple[str, str]]:
    """Return why ``password`` is refused, as (Chinese, English) pairs; an empty list when it is accepted.

    Parameters
    ----------
    password : str
        The new password.
    username, display_name : str, optional
        The account's names: a password containing them is refused.

    Returns
    -------
    list of tuple of (str, str)
    """
    problems: list[tuple[str, str]] = []
    if len(password) < MIN_LENGTH:
        problems.append((f"密码至少 {MIN_LENGTH} 个字符", f"a password needs at least {MIN_LENGTH} characters"))
    if len(password.encode("utf-8")) > MAX_BYTES:
        problems.append((f"密码至多 {MAX_BYTES} 字节", f"a password has at most {MAX_BYTES} bytes"))
    if password.isdigit():
        problems.append(("密码不能全为数字", "a password of digits only is refused"))
    if _repeated(password):
        problems.append(("密码不能由重复的字符或片段组成", "a password of one character or piece repeated is refused"))
    forms = _forms(password)
    if forms & common_passwords():
        problems.append(("这是常见密码，容易被猜中", "this is a common password, among the first guesses"))
    names = [n.strip().lower() for n in (username, display_name) if n and len(n.strip()) >= (2 if not
             n.strip().isascii() else 3)]
    low = password.lower()
    if any(n in f for n in names for f in (low, low.translate(_LEET), low.translate(_LEET_I))):
        problems.append(("密码不能包含用户名或姓名", "a password must not contain the user name or display name"))
    if not problems:
        common = [w for w in common_passwords() if len(w) >= 4]
        rests = {f: _without(f, [*PLACE_WORDS, *common])
                 for f in (low, low.translate(_LEET), low.translate(_LEET_I).translate(_LEET))}
        if min(len(re.sub(r"[\W\d_]+", "", r)) + min(len(re.sub(r"[^\d]", "", r)), 2) for r in rests.values()) \
                < MIN_REST:
            problems.append(("密码主要由键盘或数字序列、常见词、产品或地名构成，容易被猜中",
                             "a password made mostly of keyboard or digit runs, common words, or the product's or "
                             "city's names is easy to guess"))
    return problems


def require_password(password: str, *, username: str | None = None, display_name: str | None = None) -> None:
    """Raise :class:`PasswordRejected` (a ``ValueError``) naming every problem of ``password``.

    Parameters
    ----------
    password : str
        The new password.
    username, display_name : str, optional
        The account's names.

    Raises
    ------
    PasswordRejected
        When :func:`password_problems` finds any.
    """
    problems = password_problems(password, username=username, display_name=display_name)
    if problems:
        raise PasswordRejected(problems)
