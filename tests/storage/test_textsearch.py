"""Text normalisation for search: the same folding for indexed text and queries."""

from __future__ import annotations

from agentlog.storage.sql.textsearch import fts_query, normalize_for_index, query_terms


def test_ascii_passes_through():
    assert normalize_for_index("Deploy failed: timeout") == "Deploy failed: timeout"
    assert normalize_for_index(None) == ""


def test_cjk_runs_become_bigrams_then_unigrams():
    assert normalize_for_index("数据库").split() == ["数据", "据库", "数", "据", "库"]
    assert normalize_for_index("错").split() == ["错"]
    assert normalize_for_index("API错误").split() == ["API", "错误", "错", "误"]


def test_query_cjk_run_is_a_bigram_phrase():
    assert query_terms("数据库") == ['"数据 据库"']
    assert query_terms("超时") == ['"超时"']
    assert query_terms("超") == ['"超"']
    assert query_terms("API错误") == ['"API"', '"错误"']


def test_arabic_folding():
    # tashkeel stripped, alef-hamza folded, teh marbuta folded, article also indexed bare
    assert normalize_for_index("المدرسةُ").split() == ["المدرسه", "مدرسه"]
    assert normalize_for_index("أحمد").split() == ["احمد"]
    assert normalize_for_index("مـــدرسة") == "مدرسه"  # tatweel
    assert query_terms("إلى") == ['"الي"']


def test_nfkc_full_width():
    assert normalize_for_index("ＡＢＣ１２３") == "ABC123"
    assert query_terms("ｔｉｍｅｏｕｔ") == ['"timeout"']


def test_user_text_is_always_quoted():
    assert fts_query('say "hi" AND bye') == '"say" """hi""" "AND" "bye"'
    assert fts_query("NEAR(a b)") == '"NEAR(a" "b)"'
    assert fts_query("* : ^ -") is None
    assert fts_query("   ") is None
