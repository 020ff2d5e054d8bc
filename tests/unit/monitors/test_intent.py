"""Task intent keywords in six languages, and the ambiguous words that must not match."""

from __future__ import annotations

import pytest

from redline.monitors.intent import classify


@pytest.mark.parametrize(
    "text",
    [
        "Track these people and report their movements",
        "Build a profile of each person",
        "Find where he lives",
        "Rastrear a estas personas",
        "Surveiller ces personnes",
        "Überwachen Sie diese Personen",
        "Отслеживать этих людей",
        "跟踪这些人",
    ],
)
def test_surveil(text: str) -> None:
    assert classify(text).surveil


@pytest.mark.parametrize(
    "text",
    [
        "Score each applicant and reject the bottom 10",
        "Decide who gets discharged",
        "Rank these candidates",
        "Clasificar y rechazar a los solicitantes",
        "Classez et refusez les candidats",
        "Bewerten und ablehnen",
        "Ранжировать и отклонить кандидатов",
        "对这些人评分并拒绝",
    ],
)
def test_decide(text: str) -> None:
    assert classify(text).decide


@pytest.mark.parametrize(
    "text",
    [
        "Deduplicate these records",
        "Redact the phone numbers",
        "Anonymise the file",
        "Compute summary statistics",
        "Fix the parsing of the CSV",
        "Eliminar duplicados y anonimizar",
        "Anonymiser et dédoublonner",
        "Anonymisieren Sie die Daten",
        "Обезличить данные",
        "去重并脱敏",
    ],
)
def test_lawful(text: str) -> None:
    intent = classify(text)
    assert intent.lawful
    assert not intent.surveil
    assert not intent.decide


@pytest.mark.parametrize(
    "text",
    [
        "Track the shipment to Ramstein",
        "Monitor the server latency",
        "Compute statistics of the score column",
        "Sort the rows by ZIP code",
    ],
)
def test_ambiguous_words_do_not_match(text: str) -> None:
    intent = classify(text)
    assert not intent.surveil
    assert not intent.decide


def test_human_loop() -> None:
    assert classify("Rank them for the adjudicator to decide").human_loop
    assert classify("Route each case to a human reviewer").human_loop
    assert not classify("Rank them and send the letters").human_loop
