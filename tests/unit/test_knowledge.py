"""Knowledge base: the demo articles answer the labelled questions, stay quiet on the rest, and broken
article files or hostile customer text fail clearly (or not at all)."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpdesk.adapters.knowledge_files import load_articles
from helpdesk.adapters.workspace_files import WorkspaceConfigError
from helpdesk.domain import knowledge
from helpdesk.domain.knowledge import Article, KnowledgeBase

from tests.conftest import DEMO_WORKSPACE

KNOWLEDGE = DEMO_WORKSPACE / "knowledge"
QUESTIONS = Path(__file__).with_name("knowledge_questions.yaml")

# Floors for the labelled set. A ranker that ignores the question gets about 1 in 14 right, one that
# answers everything abstains on none; the current ranker does clearly better than these (see -s output).
MIN_ANSWERED_CORRECTLY = 0.8
MIN_RANKED_FIRST = 0.9
MIN_ABSTAINED = 0.9


@pytest.fixture(scope="module")
def demo_articles() -> tuple[Article, ...]:
    return load_articles(KNOWLEDGE)


@pytest.fixture(scope="module")
def demo_kb(demo_articles: tuple[Article, ...]) -> KnowledgeBase:
    return KnowledgeBase(demo_articles)


@pytest.fixture
def copy_of_knowledge(tmp_path: Path) -> Path:
    target = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, target)
    return target


def _labelled() -> list[dict[str, Any]]:
    return yaml.safe_load(QUESTIONS.read_text(encoding="utf-8"))["questions"]


def test_the_labelled_questions_get_the_right_article_or_none(
    demo_kb: KnowledgeBase, record_property: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    answerable = [q for q in _labelled() if q["expected"] is not None]
    off_topic = [q for q in _labelled() if q["expected"] is None]
    assert len(answerable) >= 40
    assert len(off_topic) >= 10

    ranked_first, answered_correctly, wrong_answers, misses = 0, 0, [], []
    for item in answerable:
        locale = item.get("locale", "en")
        hits = demo_kb.search(item["question"], locale=locale, limit=1)
        ranked_first += bool(hits) and hits[0].article.id == item["expected"]
        answer = demo_kb.best_answer(item["question"], locale=locale)
        if answer is not None and answer.article.id == item["expected"]:
            answered_correctly += 1
        elif answer is not None:
            wrong_answers.append(f"{item['question']!r} -> {answer.article.id} (expected {item['expected']})")
        else:
            misses.append(item["question"])
    answered_off_topic = []
    for item in off_topic:
        answer = demo_kb.best_answer(item["question"], locale=item.get("locale", "en"))
        if answer is not None:
            answered_off_topic.append(f"{item['question']!r} -> {answer.article.id} ({answer.confidence:.2f})")

    metrics = {
        "top1_ranked": ranked_first / len(answerable),
        "top1_answered": answered_correctly / len(answerable),
        "abstained": 1 - len(answered_off_topic) / len(off_topic),
    }
    for name, value in metrics.items():
        record_property(name, round(value, 3))
    with capsys.disabled():
        print(f"\nknowledge base on {len(answerable)} answerable + {len(off_topic)} off-topic questions: ", end="")
        print(", ".join(f"{name} {value:.2f}" for name, value in metrics.items()))
        for line in [*wrong_answers, *answered_off_topic]:
            print(f"  wrong answer: {line}")
        for question in misses:
            print(f"  no answer: {question!r}")

    assert metrics["top1_ranked"] >= MIN_RANKED_FIRST, metrics
    assert metrics["top1_answered"] >= MIN_ANSWERED_CORRECTLY, (metrics, wrong_answers, misses)
    assert metrics["abstained"] >= MIN_ABSTAINED, (metrics, answered_off_topic)
    assert len(wrong_answers) <= 1, wrong_answers


def test_the_demo_has_the_articles_a_shop_needs(demo_articles: tuple[Article, ...]) -> None:
    by_id = {a.id: a for a in demo_articles}

    assert 12 <= len(by_id) <= 20
    assert {a.id for a in demo_articles if a.language != "en"} >= {"versand-und-lieferzeiten", "ruecksendung"}
    assert "this chat" in by_id["damaged-items"].body


def test_damage_without_a_damage_article_gets_no_answer(demo_articles: tuple[Article, ...]) -> None:
    without_damage = KnowledgeBase(a for a in demo_articles if a.id != "damaged-items")
    with_damage = KnowledgeBase(demo_articles)

    assert without_damage.best_answer("my item arrived damaged") is None
    answer = with_damage.best_answer("my item arrived damaged")
    assert answer is not None
    assert answer.article.id == "damaged-items"


def test_hits_come_best_first_with_scores_and_confidence(demo_kb: KnowledgeBase) -> None:
    hits = demo_kb.search("how do I return an item for a refund", limit=5)

    assert 2 <= len(hits) <= 5
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert all(h.score > 0 and 0.0 <= h.confidence <= 1.0 for h in hits)
    assert hits[0].article.id == "how-to-return"
    assert "refund-timing" in {h.article.id for h in hits}


def test_the_threshold_decides_when_to_answer(demo_articles: tuple[Article, ...]) -> None:
    question = "Is there free shipping over a certain amount of money?"  # partly covered
    confidence = KnowledgeBase(demo_articles).search(question, limit=1)[0].confidence
    assert 0.0 < confidence < 1.0

    assert KnowledgeBase(demo_articles, threshold=confidence).best_answer(question) is not None
    assert KnowledgeBase(demo_articles, threshold=min(1.0, confidence + 0.01)).best_answer(question) is None


@pytest.mark.parametrize(
    ("locale", "question", "expected"),
    [
        ("de-DE", "Wie lange dauert der Versand?", "versand-und-lieferzeiten"),
        ("DE", "Rücksendung", "ruecksendung"),
        ("en-GB", "delivery costs", "shipping-times-and-costs"),
        ("fr-FR", "delivery costs", "shipping-times-and-costs"),  # no French articles: English ones answer
    ],
)
def test_the_customers_language_answers_with_english_as_fallback(
    demo_kb: KnowledgeBase, locale: str, question: str, expected: str
) -> None:
    answer = demo_kb.best_answer(question, locale=locale)

    assert answer is not None
    assert answer.article.id == expected


def test_articles_in_other_languages_stay_out_of_the_answers(demo_kb: KnowledgeBase) -> None:
    assert demo_kb.best_answer("Versand Lieferzeiten Versandkosten", locale="en") is None
    assert demo_kb.best_answer("delivery costs", locale="de") is None
    any_language = demo_kb.best_answer("Versand Lieferzeiten Versandkosten")
    assert any_language is not None
    assert any_language.article.id == "versand-und-lieferzeiten"


@pytest.mark.parametrize(
    "query",
    [
        '"',
        '""refund"',
        "*",
        "refund*",
        "NEAR(refund return, 2)",
        "refund AND NOT OR return",
        "-refund",
        "title: refund",
        "{title tags}: refund",
        "^refund",
        "(((",
        "'); DROP TABLE kb_all; --",
        "\x00refund\x00",
        "😡😡 refund now!!! 😡",
        "",
        "   ",
        "refund " * 5_000,
        "a" * 100_000,
    ],
)
def test_hostile_customer_text_never_raises(demo_kb: KnowledgeBase, query: str) -> None:
    hits = demo_kb.search(query, limit=3)

    assert len(hits) <= 3
    assert all(0.0 <= h.confidence <= 1.0 for h in hits)
    demo_kb.best_answer(query, locale=query[:20] or None)
    answer = demo_kb.best_answer("When will I get my refund?")  # the index is still intact
    assert answer is not None
    assert answer.article.id == "refund-timing"


def test_an_empty_knowledge_base_answers_nothing() -> None:
    empty = KnowledgeBase([])

    assert empty.search("refund") == []
    assert empty.best_answer("When will I get my refund?") is None
    assert empty.best_answer("When will I get my refund?", locale="de") is None


def test_the_index_is_built_once_on_the_first_search(
    demo_articles: tuple[Article, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    connections: list[str] = []
    real_connect = sqlite3.connect

    def counting_connect(database: str, **kwargs: Any) -> sqlite3.Connection:
        connections.append(database)
        return real_connect(database, **kwargs)

    monkeypatch.setattr(knowledge.sqlite3, "connect", counting_connect)
    kb = KnowledgeBase(demo_articles)
    assert connections == []

    kb.search("refund")
    kb.best_answer("gift card balance", locale="en")
    assert connections == [":memory:"]


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [({"threshold": 1.5}, "threshold: must be between 0 and 1"), ({"threshold": -0.1}, "threshold")],
)
def test_a_bad_threshold_is_refused(demo_articles: tuple[Article, ...], kwargs: dict[str, Any], expected: str) -> None:
    with pytest.raises(ValueError, match=expected):
        KnowledgeBase(demo_articles, **kwargs)


@pytest.mark.parametrize("limit", [0, -1, 51])
def test_a_bad_limit_is_refused(demo_kb: KnowledgeBase, limit: int) -> None:
    with pytest.raises(ValueError, match="limit: must be between 1 and 50"):
        demo_kb.search("refund", limit=limit)


def test_two_articles_with_one_id_are_refused(demo_articles: tuple[Article, ...]) -> None:
    with pytest.raises(ValueError, match="'gift-cards' is used by more than one article"):
        KnowledgeBase([*demo_articles, demo_articles[0].model_copy(update={"id": "gift-cards"})])


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda t: t.replace("id: gift-cards", "id: Gift Cards!"), "id: String should match pattern"),
        (lambda t: t.replace("id: gift-cards", "id: vouchers"), "id: 'vouchers' must match the file name 'gift-cards'"),
        (lambda t: t.replace("title: Gift cards and vouchers\n", ""), "title: Field required"),
        (lambda t: t.replace("title: Gift cards and vouchers", "title: '  '"), "title: String should have at least"),
        (lambda t: t.replace("body: |", "body: |\n  " + "x" * 5001 + "\n "), "body: String should have at most"),
        (lambda t: t + "locale: english please\n", "locale: String should match pattern"),
        (lambda t: t + "author: me\n", "author: Extra inputs are not permitted"),
        (lambda t: t.replace("tags: [", "tags: [[nested], "), "tags.0: Input should be a valid string"),
        (lambda t: "tags: [unbalanced\n" + t, "is not valid YAML"),
        (lambda t: "- just\n- a list\n", "must contain a mapping at the top level"),
    ],
)
def test_a_broken_article_names_file_field_and_problem(copy_of_knowledge: Path, edit: Any, expected: str) -> None:
    path = copy_of_knowledge / "gift-cards.yaml"
    path.write_text(edit(path.read_text(encoding="utf-8")), encoding="utf-8")

    with pytest.raises(WorkspaceConfigError) as broken:
        load_articles(copy_of_knowledge)

    message = str(broken.value)
    assert message.startswith(f"{path}: ")
    assert expected in message


def test_a_workspace_without_a_knowledge_directory_has_no_articles(tmp_path: Path) -> None:
    assert load_articles(tmp_path / "knowledge") == ()


def test_the_knowledge_directory_must_be_a_directory(tmp_path: Path) -> None:
    (tmp_path / "knowledge").write_text("not a directory")

    with pytest.raises(WorkspaceConfigError, match="must be a directory"):
        load_articles(tmp_path / "knowledge")


def test_the_functions_load_the_workspace_knowledge_base() -> None:
    from helpdesk import wiring

    kb = wiring.knowledge_base()

    answer = kb.best_answer("Do you ship to Norway?", locale="en-GB")
    assert answer is not None
    assert answer.article.id == "international-delivery"
    assert wiring.knowledge_base() is kb
