"""Reading a worker's answer letters and judging a lesson."""

from __future__ import annotations

import re
import unicodedata

_SEPARATORS = re.compile(r"[\s,，、.．。;；:：)）(（]+")
_TRUE_WORDS = {"对", "正确", "是", "√", "✓", "✔", "T", "TRUE", "Y", "YES"}
_FALSE_WORDS = {"错", "错误", "否", "×", "✗", "✘", "F", "FALSE", "N", "NO"}


def parse_letters(text: str, letters: str, true_false: bool = False) -> str | None:
    """Turn what a worker typed (``a``, ``Ａ``, ``A.``, ``A、C``, ``对``) into sorted letters.

    Returns None when the text is not an answer among `letters`, so it can be routed elsewhere.
    """
    folded = unicodedata.normalize("NFKC", text).strip().upper()
    if true_false:
        word = _SEPARATORS.sub("", folded)
        if word in _TRUE_WORDS:
            return "A"
        if word in _FALSE_WORDS:
            return "B"
    compact = _SEPARATORS.sub("", folded)
    if not compact or len(compact) > len(letters) or any(ch not in letters for ch in compact):
        return None
    if len(set(compact)) != len(compact):
        return None
    return "".join(sorted(compact))


def lesson_passed(correct: int, total: int, pass_mark: float) -> bool:
    """Tell whether `correct` of `total` reaches the pass mark (a share between 0 and 1)."""
    return total > 0 and correct >= pass_mark * total - 1e-9


def mapped_letters(shown: str, perm: list[int], all_letters: str) -> str:
    """Undo an option shuffle: shown letters → the bank's original letters, sorted."""
    return "".join(sorted(all_letters[perm[all_letters.index(ch)]] for ch in shown))
