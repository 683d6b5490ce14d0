"""Text normalisation shared by indexing and querying, so search finds words in every script.

FTS5's `unicode61` tokenizer splits on spaces and punctuation, which fails for
scripts written without spaces (Chinese, Japanese) and for Arabic, whose
diacritics split words and whose letter variants differ between writers. Both
the indexed text and the query go through the same folding:

- NFKC (full-width and presentation forms become their plain letters);
- Arabic: tashkeel and tatweel removed, alef / yeh / teh-marbuta variants folded
  (the Lucene ArabicNormalizer rules);
- Arabic words carrying the article (ال, وال, بال, ...) are also indexed bare;
- CJK runs (Han, kana, Hangul) are indexed as their bigrams followed by their
  unigrams, and a query's CJK run becomes a phrase of its bigrams (a single
  character becomes that unigram). So a 2-character Chinese word is one token.

User text never reaches FTS5's query syntax: every term is a quoted string,
so quotes, AND/OR/NOT/NEAR, `*`, `^`, `:` and parentheses are plain text.
"""

from __future__ import annotations

import re
import unicodedata

# Tokenizer used by every FTS5 table that stores normalised text.
FTS_TOKENIZE = "unicode61 remove_diacritics 2"

_ARABIC_MARKS = (
    [chr(c) for c in range(0x064B, 0x0660)]  # fathatan .. hamza below (tashkeel)
    + ["\u0670", "\u0640"]  # superscript alef, tatweel
    + [chr(c) for c in range(0x06D6, 0x06EE)]  # Quranic annotation marks
)
_ARABIC_FOLD = str.maketrans(
    {
        **dict.fromkeys(_ARABIC_MARKS, None),
        "\u0622": "\u0627",  # alef with madda -> alef
        "\u0623": "\u0627",  # alef with hamza above -> alef
        "\u0625": "\u0627",  # alef with hamza below -> alef
        "\u0671": "\u0627",  # alef wasla -> alef
        "\u0649": "\u064a",  # alef maksura -> yeh
        "\u06cc": "\u064a",  # Farsi yeh -> yeh
        "\u0629": "\u0647",  # teh marbuta -> heh
        "\u06a9": "\u0643",  # keheh -> kaf
    }
)
_ARABIC_RE = re.compile("[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff]")
# Arabic writes the definite article (and some prepositions) onto the word: index
# the bare word too, so "مدرسة" finds "المدرسة" (Lucene's light stemmer prefixes).
_ARABIC_ARTICLE = re.compile(r"\b(?:وال|بال|كال|فال|ال|لل)([\u0620-\u064a]{2,})")

_CJK_CLASS = (
    "\u3040-\u30ff"  # hiragana, katakana (with the prolonged sound mark)
    "\u31f0-\u31ff"  # katakana phonetic extensions
    "\u3400-\u4dbf"  # Han extension A
    "\u4e00-\u9fff"  # Han
    "\uf900-\ufaff"  # Han compatibility
    "\uac00-\ud7af"  # Hangul syllables
    "\U00020000-\U0003134f"  # Han extensions B..G
)
_CJK_RUN = re.compile(f"[{_CJK_CLASS}]+")
_HAS_WORD = re.compile(r"[^\W_]", re.UNICODE)


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    if _ARABIC_RE.search(text):
        text = text.translate(_ARABIC_FOLD)
    return text


def _bigrams(run: str) -> list[str]:
    return [run[i : i + 2] for i in range(len(run) - 1)]


def _expand_run(match: re.Match[str]) -> str:
    run = match.group(0)
    if len(run) == 1:
        return f" {run} "
    return " " + " ".join(_bigrams(run)) + " " + " ".join(run) + " "


# Content sealed by encryption at rest (storage/encrypted.py) starts with this: its
# ciphertext would only fill the index with tokens no search can ask for.
SEALED_PREFIX = "agentlog:enc:v1:"


def normalize_for_index(text: str | None) -> str:
    """The text to put in an FTS5 column for `text` (empty for None and for sealed content)."""
    if not text or text.startswith(SEALED_PREFIX):
        return ""
    if text.isascii():
        return text  # nothing to fold: the hot path for most agent traffic
    text = _fold(text)
    if _ARABIC_RE.search(text):
        text = _ARABIC_ARTICLE.sub(lambda m: f"{m.group(0)} {m.group(1)}", text)
    return _CJK_RUN.sub(_expand_run, text)


def _quote(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def query_terms(text: str) -> list[str]:
    """The FTS5 phrases (already quoted) that must all match for `text`."""
    terms: list[str] = []
    for chunk in _fold(text).split():
        pos = 0
        for match in _CJK_RUN.finditer(chunk):
            terms.extend(_plain_terms(chunk[pos : match.start()]))
            run = match.group(0)
            terms.append(_quote(run if len(run) == 1 else " ".join(_bigrams(run))))
            pos = match.end()
        terms.extend(_plain_terms(chunk[pos:]))
    return terms


def _plain_terms(segment: str) -> list[str]:
    # Inside quotes FTS5 tokenizes the segment itself: "foo.bar" is the phrase foo bar.
    return [_quote(segment)] if _HAS_WORD.search(segment) else []


def fts_query(text: str) -> str | None:
    """An FTS5 MATCH expression for user text (every term required), or None if it has no words."""
    terms = query_terms(text)
    return " ".join(terms) if terms else None


def _tokens(text: str) -> list[str]:
    """Tokens as FTS5's unicode61 tokenizer (remove_diacritics 2) makes them, casefolded."""
    out: list[str] = []
    current: list[str] = []
    for ch in unicodedata.normalize("NFD", text):
        cat = unicodedata.category(ch)
        if cat == "Mn":
            continue  # a diacritic: folded away
        if cat[0] in "LN" or cat == "Co":
            current.append(ch)
        elif current:
            out.append("".join(current).casefold())
            current = []
    if current:
        out.append("".join(current).casefold())
    return out


def _phrase_in(phrase: list[str], tokens: list[str]) -> bool:
    n = len(phrase)
    return any(tokens[i : i + n] == phrase for i in range(len(tokens) - n + 1))


def text_matches(query: str, *fields: str | None) -> bool:
    """Whether FTS5 would match `query` against these fields (each phrase within one field).

    For rows not yet in the full-text index when the store cannot index them
    (opened read-only, or another process holds the write lock).
    """
    phrases = [_tokens(term[1:-1].replace('""', '"')) for term in query_terms(query)]
    if not phrases:
        return False
    fields_tokens = [_tokens(normalize_for_index(f)) for f in fields if f]
    return all(
        any(_phrase_in(phrase, tokens) for tokens in fields_tokens) for phrase in phrases if phrase
    )
