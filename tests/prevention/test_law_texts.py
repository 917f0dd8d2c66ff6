"""The texts that state law or facts: statutory names spelled as in law, sources at the bottom, a fact-check date."""

import datetime
import re
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone

from prevention.management.commands.seed_articles import CONTENT_DIR, read_article
from prevention.models import Article
from staff.roles import Role
from tests.factories import StaffUserFactory, login_verified

GROOMING = "kontakt för att träffa ett barn i sexuellt syfte"
CHILD_PURCHASE = "utnyttjande av barn genom köp av sexuell handling"
# Wrong forms that have appeared or could appear, and the names the law uses.
# "kontaktförsök" has never been a statutory name; "olaglig" is not the law's word for these offences.
NEVER = {
    "kontaktförsök med barn": f"{GROOMING} (brottsbalken 6 kap. 10 a §)",
    "olagligt integritetsintrång": "olaga integritetsintrång (brottsbalken 4 kap. 6 c §)",
    "olagligt hot": "olaga hot (brottsbalken 4 kap. 5 §)",
    "olagligt tvång": "olaga tvång (brottsbalken 4 kap. 4 §)",
    "våldtäkt av barn": "våldtäkt mot barn (brottsbalken 6 kap. 4 §)",
    "sexuellt övergrepp av barn": "sexuellt övergrepp mot barn (brottsbalken 6 kap. 6 §)",
    "sexuell posering av barn": "utnyttjande av barn för sexuell posering (brottsbalken 6 kap. 8 §)",
    "våldtäkt på barn": "våldtäkt mot barn (brottsbalken 6 kap. 4 §)",
    "i sexuella syften": f"{GROOMING} (brottsbalken 6 kap. 10 a §)",
    "sexuellt antastande": "sexuellt ofredande (brottsbalken 6 kap. 10 §)",
    "olaga integritetskränkning": "olaga integritetsintrång (brottsbalken 4 kap. 6 c §)",
}
# Names the law has since replaced (prop. 2016/17:214 from 1 January 2018; prop. 2018/19:157 from
# 1 January 2020). A text may name one only as the former name, in a sentence that says so.
FORMER = {
    "kontakt med barn i sexuellt syfte": f"{GROOMING} (brottsbalken 6 kap. 10 a §, since 2018)",
    "köp av sexuell handling av barn": f"{CHILD_PURCHASE} (brottsbalken 6 kap. 9 §, since 2020)",
}
SAYS_FORMER = re.compile(r"\b(hette|was called|tidigare|formerly)\b", re.IGNORECASE)
# Where the parents' law article's sources place each offence it names: (section as cited, statutory name).
CITED = [
    ("4 § våldtäkt mot barn", "våldtäkt mot barn"),
    ("6 § sexuellt övergrepp mot barn", "sexuellt övergrepp mot barn"),
    ("8 § utnyttjande av barn för sexuell posering", "utnyttjande av barn för sexuell posering"),
    (f"9 § {CHILD_PURCHASE}", CHILD_PURCHASE),
    (f"10 a § {GROOMING}", GROOMING),
    ("16 kap. 10 a § (barnpornografibrott)", "barnpornografibrott"),
    ("6 c §§ (olaga tvång, olaga hot och olaga integritetsintrång)", "olaga integritetsintrång"),
]
LAW_ARTICLES = ["08-lagen-unga", "12-lagen-foraldrar"]
# Words that mean a text states law or facts, so it must name its sources.
STATES_LAW_OR_FACTS = re.compile(
    r"\b(brott\w*|brottsbalk\w*|lagen|olaglig\w*|straffbar\w*|preskription\w*|forskning|statistik"
    r"|crimes?|criminal|the law|illegal|limitation period|research|statistics)\b",
    re.IGNORECASE,
)
CONTENT_FILES = sorted(CONTENT_DIR.glob("*.md"))


def _text(path: Path) -> str:
    article = read_article(path)
    return f"{article.title}\n{article.summary}\n{article.body}"


@pytest.mark.parametrize("path", CONTENT_FILES, ids=lambda path: path.name)
def test_no_text_misspells_a_statutory_name(path: Path):
    text = _text(path).casefold()
    wrong = {term: right for term, right in NEVER.items() if term in text}
    assert not wrong, f"{path.name}: write {wrong}"


@pytest.mark.parametrize("path", CONTENT_FILES, ids=lambda path: path.name)
def test_a_former_statutory_name_appears_only_as_the_former_name(path: Path):
    sentences = re.split(r"(?<=[.!?:])\s+", _text(path))
    for sentence in sentences:
        for former, current in FORMER.items():
            # The current name of 6:10 a contains no former name, so a hit is always the old one.
            if former in sentence.casefold():
                assert SAYS_FORMER.search(sentence), f"{path.name}: write {current}, not {former!r}: {sentence}"


@pytest.mark.parametrize("name", LAW_ARTICLES)
@pytest.mark.parametrize("language", ["sv", "en"])
def test_the_law_articles_use_the_statutory_name_of_the_grooming_offence(name: str, language: str):
    # The English texts give the Swedish name too, so a reader can look it up.
    assert GROOMING in _text(CONTENT_DIR / f"{name}.{language}.md")


@pytest.mark.parametrize("language", ["sv", "en"])
def test_the_parents_law_article_states_the_limitation_rule_as_amended_in_2020(language: str):
    # Prop. 2019/20:69: no limitation period for rape offences against children from 1 May 2020,
    # also for offences committed earlier that were not yet time-barred on that day.
    text = _text(CONTENT_DIR / f"12-lagen-foraldrar.{language}.md")
    if language == "sv":
        assert "1 maj 2020" in text and "inte redan hade hunnit preskriberas" in text
        assert "begåtts efter lagändringarna" not in text
    else:
        assert "1 May 2020" in text and "had not already become time-barred" in text
        assert "committed after the law changed" not in text


def test_the_parents_law_article_cites_the_section():
    assert "(brottsbalken 6 kap. 10 a §)" in _text(CONTENT_DIR / "12-lagen-foraldrar.sv.md")
    assert "(brottsbalken chapter 6, section 10 a)" in _text(CONTENT_DIR / "12-lagen-foraldrar.en.md")


@pytest.mark.parametrize(("citation", "name"), CITED)
def test_the_parents_law_article_cites_each_offence_it_names_at_its_section(citation: str, name: str):
    text = _text(CONTENT_DIR / "12-lagen-foraldrar.sv.md")
    body, sources = text.split("## Källor", 1)
    assert name in body and citation in sources


@pytest.mark.parametrize("name", LAW_ARTICLES)
def test_the_law_articles_say_offences_can_be_committed_at_a_distance(name: str):
    swedish = _text(CONTENT_DIR / f"{name}.sv.md")
    english = _text(CONTENT_DIR / f"{name}.en.md")
    assert "videosamtal" in swedish and ("sig själv" in swedish or "dig själv" in swedish)
    assert "video call" in english and ("themselves" in english or "yourself" in english)


@pytest.mark.parametrize("path", CONTENT_FILES, ids=lambda path: path.name)
def test_a_text_that_states_law_or_facts_ends_with_its_sources(path: Path):
    body = read_article(path).body
    if not STATES_LAW_OR_FACTS.search(body):
        return
    headings = re.findall(r"^## (.+)$", body, re.MULTILINE)
    expected = "Källor" if path.name.endswith(".sv.md") else "Sources"
    assert headings and headings[-1] == expected, f"{path.name} states law or facts but does not end with {expected}"
    sources = body.split(f"## {expected}", 1)[1]
    assert sources.count("\n- ") >= 1


@pytest.mark.django_db
def test_an_article_fact_checked_over_a_year_ago_is_flagged_to_editors(client: Client, make_article):
    today = timezone.localdate()
    old = make_article(title="Gammal lagtext", slug="gammal", last_reviewed=today - datetime.timedelta(days=400))
    make_article(title="Färsk lagtext", slug="farsk", last_reviewed=today - datetime.timedelta(days=30))
    make_article(
        title="Arkiverad",
        slug="arkiv",
        status=Article.Status.ARCHIVED,
        last_reviewed=today - datetime.timedelta(days=900),
    )
    assert old.review_due() and list(Article.objects.review_due().exclude(status="archived")) == [old]

    login_verified(client, StaffUserFactory(role=Role.EDITOR))
    start = client.get("/admin/").text
    assert 'id="fact-check-reminder"' in start
    assert "1 artikel faktagranskades för mer än ett år sedan." in start
    due = client.get("/admin/prevention/article/?fact_check=due").text
    assert "Gammal lagtext" in due and "Färsk lagtext" not in due
    assert "dags att granska igen" in due
    change = client.get(f"/admin/prevention/article/{old.pk}/change/").text
    assert "Faktagranskad" in change and "dags att granska igen" in change


@pytest.mark.django_db
def test_no_reminder_while_every_fact_check_is_recent(client: Client, make_article):
    make_article(slug="farsk", last_reviewed=timezone.localdate())
    login_verified(client, StaffUserFactory(role=Role.EDITOR))
    assert 'id="fact-check-reminder"' not in client.get("/admin/").text


@pytest.mark.django_db
def test_the_article_page_shows_the_fact_check_date_and_the_sources(client: Client):
    from django.core.management import call_command

    call_command("seed_articles", verbosity=0)
    page = client.get("/kunskap/artikel/vad-lagen-sager-om-sexuella-overgrepp-mot-barn/").text
    assert "Faktagranskad" in page
    assert page.index("Källor") > page.index("Preskription")
    assert "https://www.riksdagen.se/" in page
