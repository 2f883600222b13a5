"""Pure functions that trace an exception thrown in the browser back to a source file of the
project: the error's stack as the browser reports it, the code around the failing position in a
minified client chunk, and which source file that code came from.

Production builds of Next.js ship no browser source maps unless `productionBrowserSourceMaps` is
on. Where a map is served, it decides (`parsers.original_position`). Without one, minifiers keep
string literals and property names; the innermost function around the failing position is matched
against the project's sources by those words, rarer words weighing more (idf), and a file is named
only when it clearly wins.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace

MAX_SNIPPET = 4000  # characters of a range that are searched for words
MIN_WORDS = 2  # distinct words a named file must contain
LEAD = 2.0  # a named file's score must be this many times the runner-up's


@dataclass(frozen=True)
class Frame:
    url: str
    line: int  # 1-based
    column: int  # 1-based, as browsers print it


@dataclass(frozen=True)
class ClientError:
    message: str
    frames: tuple[Frame, ...]


_FRAME = re.compile(r"^\s*at (?:.*? \()?(?P<url>https?://[^\s()]+?):(?P<line>\d+):(?P<col>\d+)\)?\s*$")
_ERROR_HEAD = re.compile(r"^(?:Uncaught )?(?P<msg>(?:[A-Z]\w*)?(?:Error|Exception)\b.*)$")


def parse_client_error(text: str) -> ClientError | None:
    """A browser error with its stack (`TypeError: … \\n    at fn (https://…/chunk.js:1:331)`);
    None when the text carries no frame with a URL (a plain console message)."""
    lines = text.splitlines()
    frames = tuple(Frame(m["url"], int(m["line"]), int(m["col"])) for ln in lines for m in [_FRAME.match(ln)] if m)
    if not frames:
        return None
    head = next((ln.strip() for ln in lines if ln.strip() and not _FRAME.match(ln)), "")
    m = _ERROR_HEAD.match(head)
    return ClientError(m["msg"] if m else head[:300], frames)


def offset_of(code: str, line: int, column: int) -> int | None:
    """The character offset of a 1-based line and column in `code`; None when out of range."""
    start = 0
    for _ in range(line - 1):
        start = code.find("\n", start) + 1
        if start == 0:
            return None
    offset = start + column - 1
    return offset if 0 <= offset < len(code) else None


def enclosing_ranges(code: str, offset: int) -> list[tuple[int, int]]:
    """The `{…}` blocks that contain `offset`, innermost first, each as (start, end) offsets.
    Strings, template literals and comments are skipped (regular expression literals are not
    recognised; minified chunks seldom hold braces in them)."""
    stack: list[int] = []
    found: list[tuple[int, int]] = []
    i, n = 0, len(code)
    while i < n:
        ch = code[i]
        if ch in "\"'`":
            i = _skip_string(code, i)
            continue
        if ch == "/" and i + 1 < n and code[i + 1] in "/*":
            end = code.find("\n" if code[i + 1] == "/" else "*/", i + 2)
            i = n if end < 0 else end + (1 if code[i + 1] == "/" else 2)
            continue
        if ch == "{":
            stack.append(i)
        elif ch == "}" and stack:
            start = stack.pop()
            if start <= offset <= i:
                found.append((start, i + 1))
        i += 1
    found.extend((start, n) for start in reversed(stack) if start <= offset)  # unclosed (truncated chunk)
    return sorted(set(found), key=lambda r: r[1] - r[0])


def _skip_string(code: str, i: int) -> int:
    quote, j, n = code[i], i + 1, len(code)
    while j < n:
        if code[j] == "\\":
            j += 2
            continue
        if code[j] == quote:
            return j + 1
        j += 1
    return n


_STRING = re.compile(r""""((?:\\.|[^"\\\n])*)"|'((?:\\.|[^'\\\n])*)'|`((?:\\.|[^`\\])*)`""")
_PROPERTY = re.compile(r"(?:\.|\b)([A-Za-z_$][\w$]{2,})\s*(?=:|\()|\.([A-Za-z_$][\w$]{2,})")
# Words every bundle holds (runtime helpers, React's compiled JSX, keywords, the everyday methods
# of the language and the DOM); they say nothing of which source file the code came from.
_NOISE = frozenset("""
    use strict default children jsx jsxs jsxDEV Fragment createElement useState useEffect useRef useMemo
    useCallback useContext useLayoutEffect className object function undefined string number boolean symbol
    exports module require TURBOPACK currentScript document __esModule __NEXT_P
    return typeof void new delete instanceof throw for while switch case catch finally await async yield
    let const var this null true false else try
    push pop shift unshift slice splice concat join split map filter forEach reduce find findIndex some every
    includes indexOf keys values entries assign freeze create call apply bind then toString valueOf length
    parse stringify getItem setItem removeItem replace trim toFixed toLowerCase toUpperCase startsWith
    endsWith addEventListener removeEventListener preventDefault stopPropagation querySelector
    getElementById setTimeout clearTimeout setInterval clearInterval resolve reject prototype constructor
""".split())


def code_words(snippet: str) -> set[str]:
    """String literals (with a letter, ≥ 3 characters) and property or key names (≥ 3) of a piece
    of minified code — what a minifier keeps of the source."""
    words: set[str] = set()
    for m in _STRING.finditer(snippet):
        value = next(g for g in m.groups() if g is not None).strip()
        if len(value) >= 3 and re.search(r"[A-Za-z]", value) and "${" not in value:
            words.add(value)
    for m in _PROPERTY.finditer(_STRING.sub('""', snippet)):
        words.add(m[1] or m[2])
    return {w for w in words if w not in _NOISE and len(w) <= 200}


@dataclass(frozen=True)
class SourceMatch:
    file: str
    line: int
    score: float
    words: tuple[str, ...]  # the words of the code found in the file, rarest first


def _contains(text: str, word: str) -> bool:
    if re.fullmatch(r"[A-Za-z_$][\w$]*", word):
        return re.search(rf"(?<![\w$]){re.escape(word)}(?![\w$])", text) is not None
    return word in text


def rank_sources(words: set[str], sources: Mapping[str, str]) -> list[SourceMatch]:
    """Source files scored by the words of the code they contain, each word weighted by its rarity
    among the sources (idf); best first, files with no word left out."""
    if not words or not sources:
        return []
    holders = {w: [f for f, text in sources.items() if _contains(text, w)] for w in words}
    total = len(sources)
    weight = {w: math.log((total + 1) / len(files)) for w, files in holders.items() if files}
    matches = []
    for file, text in sources.items():
        own = sorted((w for w in weight if file in holders[w]), key=lambda w: (-weight[w], w))
        if not own:
            continue
        matches.append(SourceMatch(file, _line_of(text, {w: weight[w] for w in own}), sum(weight[w] for w in own),
                                   tuple(own)))
    return sorted(matches, key=lambda m: (-m.score, m.file))


def _line_of(text: str, weights: Mapping[str, float]) -> int:
    """The line holding the most (weighted) of the words; the first of equals."""
    best, best_score = 1, 0.0
    for number, line in enumerate(text.splitlines(), 1):
        score = sum(w for word, w in weights.items() if _contains(line, word))
        if score > best_score:
            best, best_score = number, score
    return best


_READ = re.compile(r"\(reading '(?P<p>[\w$]+)'\)|property '(?P<q>[\w$]+)' of|\.(?P<f>[\w$]+) is not a function")


def property_read(message: str) -> str | None:
    """The property a TypeError names (`… (reading 'length')`, `… property 'x' of undefined`,
    `a.b is not a function`)."""
    m = _READ.search(message)
    return (m["p"] or m["q"] or m["f"]) if m else None


def _throwing_line(text: str, near: int, prop: str) -> int:
    """Of the lines around `near`, the first that reads `.prop` (where the TypeError is thrown)."""
    lines = text.splitlines()
    for number in sorted(range(max(1, near - 5), min(len(lines), near + 5) + 1), key=lambda n: (abs(n - near), n)):
        if re.search(rf"\.{re.escape(prop)}(?![\w$])", lines[number - 1]):
            return number
    return near


def locate_in_bundle(code: str, line: int, column: int, sources: Mapping[str, str],
                     message: str = "") -> SourceMatch | None:
    """The source file the code at `line:column` of a minified chunk came from: the innermost
    enclosing block whose words name one file clearly (≥ `MIN_WORDS` words, `LEAD` × the next);
    wider blocks are tried when a narrow one is undecided. None when no block decides. The line is
    where most of the words stand, moved to the nearest line reading the property `message` names."""
    offset = offset_of(code, line, column)
    if offset is None:
        return None
    for start, end in enclosing_ranges(code, offset):
        lo = max(0, start - 80)  # the function's name and parameters stand before its brace
        snippet = code[lo:min(end, lo + MAX_SNIPPET)]
        ranked = rank_sources(code_words(snippet), sources)
        if not ranked:
            continue
        best = ranked[0]
        runner_up = ranked[1].score if len(ranked) > 1 else 0.0
        if len(best.words) >= MIN_WORDS and best.score >= LEAD * runner_up and best.score > 0:
            prop = property_read(message)
            if prop:
                best = replace(best, line=_throwing_line(sources[best.file], best.line, prop))
            return best
    return None
