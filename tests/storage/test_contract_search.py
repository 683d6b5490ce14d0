"""Contract: full-text search finds words in English, Chinese, Japanese and Arabic, safely."""

from __future__ import annotations

from dataclasses import replace

import pytest

from agentlog.model import EventType
from agentlog.storage.base import EventQuery, SessionQuery

TEXTS = {
    "en": "The deploy failed: connection timeout after 30 seconds while fetching logs.",
    "zh": "数据库连接超时，请检查网络配置后重试。",
    "ja": "東京タワーに行きました。エラーが発生したので、再起動してください。",
    "ar": "فشلَ الاتصالُ بقاعدةِ البيانات بسبب انتهاء المهلة، يرجى إعادة المحاولة.",
    "mixed": "调用 search_logs 工具失败 (HTTP 503) — retry scheduled",
}


@pytest.fixture
def corpus(store, make):
    s = make.session(title="multilingual")
    events = {key: make.event(s.id, EventType.LOG, content=text) for key, text in TEXTS.items()}
    events["named"] = make.event(s.id, EventType.TOOL_CALL, name="read_file", content="{}")
    store.write(sessions=[s], events=list(events.values()))
    return s, events


def found(store, text, **filters):
    return {e.id for e in store.list_events(EventQuery(text=text, **filters))}


@pytest.mark.parametrize(
    ("text", "keys"),
    [
        ("timeout", {"en"}),
        ("TIMEOUT", {"en"}),
        ("deploy failed", {"en"}),
        ("connection seconds", {"en"}),
        ("fetching logs", {"en"}),
        ("deploy nonsense", set()),
        # Chinese: 2-character words inside a sentence without spaces
        ("超时", {"zh"}),
        ("数据库", {"zh"}),
        ("网络", {"zh"}),
        ("重试", {"zh"}),
        ("数据库连接超时", {"zh"}),
        ("失败", {"mixed"}),
        ("超", {"zh"}),
        ("超连", set()),
        # Japanese: kanji and kana without spaces
        ("東京", {"ja"}),
        ("タワー", {"ja"}),
        ("エラー", {"ja"}),
        ("再起動", {"ja"}),
        ("行きました", {"ja"}),
        # Arabic: without diacritics, without the article, other letter forms
        ("الاتصال", {"ar"}),
        ("الاتصالُ", {"ar"}),
        ("البيانات", {"ar"}),
        ("بيانات", {"ar"}),
        ("المهله", {"ar"}),
        ("مهلة", {"ar"}),
        ("فشل", {"ar"}),
        ("ﻓﺸﻞ", {"ar"}),  # presentation forms fold by NFKC
        # mixed scripts and code-ish words
        ("search_logs", {"mixed"}),
        ("search_logs 工具", {"mixed"}),
        ("503", {"mixed"}),
        ("read_file", {"named"}),
    ],
)
def test_finds_words_in_every_script(store, corpus, text, keys):
    _, events = corpus
    assert found(store, text) == {events[k].id for k in keys}


@pytest.mark.parametrize(
    "text",
    [
        '"',
        '"timeout',
        "timeout AND",
        "OR",
        "NOT timeout",
        "NEAR(timeout",
        "*",
        "time*",
        "content:timeout",
        "(timeout",
        "^timeout",
        "-timeout",
        "'",
        'a"b',
        "\\",
        "   ",
        "",
        "{}",
        "+",
    ],
)
def test_query_syntax_never_breaks(store, corpus, text):
    result = store.list_events(EventQuery(text=text))
    assert isinstance(result.items, list)
    assert store.count_events(EventQuery(text=text)) == len(result)


def test_operator_words_are_plain_text(store, make):
    s = make.session()
    e = make.event(s.id, content="this AND that OR NEAR the end")
    store.write(sessions=[s], events=[e, make.event(s.id, content="that is all")])
    assert found(store, "AND that") == {e.id}
    assert found(store, "OR") == {e.id}


def test_a_written_event_is_found_at_once(store, make):
    s = make.session()
    store.write(sessions=[s])
    for i in range(3):
        e = make.event(s.id, content=f"fresh-{i} kiwifruit")
        store.write(events=[e])
        assert found(store, f"fresh-{i}") == {e.id}
    assert store.count_events(EventQuery(text="kiwifruit")) == 3


def test_search_with_filters_and_newest_first_paging(store, make):
    s, other = make.session(), make.session()
    hits = [
        make.event(s.id, EventType.TOOL_CALL if i % 2 else EventType.LOG, content=f"banana {i}")
        for i in range(9)
    ]
    store.write(
        sessions=[s, other],
        events=[
            *hits,
            make.event(other.id, content="banana elsewhere"),
            make.event(s.id, content="apple"),
        ],
    )
    q = EventQuery(text="banana", session_id=s.id, order="desc", limit=4)
    seen = []
    while True:
        page = store.list_events(q)
        seen += [e.id for e in page]
        if not page.next_cursor:
            break
        q = replace(q, cursor=page.next_cursor)
    assert seen == [e.id for e in reversed(hits)]
    assert found(store, "banana", types=[EventType.TOOL_CALL]) == {e.id for e in hits[1::2]}
    assert store.count_events(EventQuery(text="banana")) == 10
    assert store.facets(EventQuery(text="banana", session_id=s.id))["type"] == {
        "LOG": 5,
        "TOOL_CALL": 4,
    }
    assert len(store.event_keys(EventQuery(text="banana"))) == 10
    assert store.stats(EventQuery(text="banana")).events == 10


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("triage", "Triage bot for deploys"),
        ("部署", "部署失败分析"),
        ("デプロイ", "デプロイ失敗の調査"),
        ("النشر", "تحليل فشلِ النشرِ"),
        ("نشر", "تحليل فشلِ النشرِ"),
    ],
)
def test_session_title_search(store, make, text, title):
    s = make.session(title=title)
    store.write(sessions=[s, make.session(title="unrelated")])
    assert [x.id for x in store.list_sessions(SessionQuery(text=text))] == [s.id]


def test_session_description_search(store, make):
    s = make.session(title="bot", description="investigates flaky integration tests")
    store.write(sessions=[s, make.session(title="other")])
    assert store.count_sessions(SessionQuery(text="flaky")) == 1
    assert store.count_sessions(SessionQuery(text='"flaky (integration')) == 1
