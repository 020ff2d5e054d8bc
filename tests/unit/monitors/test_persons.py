"""Person identifiers: extraction, normalisation, nationality classes, hashing."""

from __future__ import annotations

import pytest

from redline.errors import ConfigError
from redline.monitors import IdentifierKind, Nationality, PersonExtractor
from tests.unit.monitors.conftest import SALT


def kinds(extractor: PersonExtractor, text: str) -> list[str]:
    return sorted(r.kind.value for r in extractor.extract(text).refs)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("call (937) 555-0123 now", IdentifierKind.PHONE),
        ("reach her at +1 212 555 0199", IdentifierKind.PHONE),
        ("mobile: 2125550199", IdentifierKind.PHONE),
        ("his UK number +44 20 7946 0958", IdentifierKind.PHONE),
        ("mail Jane.Roe@Example.org", IdentifierKind.EMAIL),
        ("lives at 12 Oak Street, Dayton, OH 45402", IdentifierKind.ADDRESS),
        ("SSN 123-45-6789", IdentifierKind.NATIONAL_ID),
        ("ssn: 123456789", IdentifierKind.NATIONAL_ID),
        ("NINO AB 12 34 56 C", IdentifierKind.NATIONAL_ID),
        ("passport no. X1234567", IdentifierKind.NATIONAL_ID),
        ("the car with plate ABC-1234", IdentifierKind.PLATE),
        ("IDFA 6D92078A-8246-4BA4-AE5B-76104861E7DC", IdentifierKind.DEVICE_ID),
        ("IMEI 490154203237518", IdentifierKind.DEVICE_ID),
        ("MAC 00:1A:2B:3C:4D:5E", IdentifierKind.DEVICE_ID),
        ("posts by @jsmith_99 today", IdentifierKind.HANDLE),
        ("Dr. Jane Roe", IdentifierKind.NAME),
        ("a man named Ahmed Khan", IdentifierKind.NAME),
        ("subject: Maria Garcia", IdentifierKind.NAME),
        ("John Smith, 42, of Dayton", IdentifierKind.NAME),
    ],
)
def test_each_kind_is_extracted(
    extractor: PersonExtractor, text: str, kind: IdentifierKind
) -> None:
    assert kind.value in kinds(extractor, text)


@pytest.mark.parametrize(
    "text",
    [
        "Estimate fuel for 40 trucks over 300 km at 3 km per litre.",
        "order number 2125550199 shipped",  # a bare digit run without a phone word
        "request 6D92078A-8246-4BA4-AE5B-76104861E7DC failed",  # a UUID without an ad-ID word
        "IMEI 490154203237519",  # bad Luhn digit
        "I walked 2 blocks down the street",
        "The United States Army and New York",
        "subject: United States policy",
        "SSN 000-12-3456",  # never issued
        "write to me@",
    ],
)
def test_non_identifiers_are_ignored(extractor: PersonExtractor, text: str) -> None:
    assert extractor.extract(text).refs == ()


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("(937) 555-0123", "+1 937.555.0123"),
        ("Jane.Roe@Example.ORG", "jane.roe@example.org"),
        ("12 Oak Street", "12 Oak St."),
        ("plate abc-1234", "plate ABC 1234"),
        ("Dr. Jane Roe", "subject: Jane Roe"),
        ("Mr. John Q. Public", "named John Public"),
    ],
)
def test_spellings_of_one_identifier_hash_alike(extractor: PersonExtractor, a: str, b: str) -> None:
    ra, rb = extractor.extract(a).refs, extractor.extract(b).refs
    assert len(ra) == len(rb) == 1
    assert ra[0].digest == rb[0].digest


def test_hash_depends_on_the_salt_and_raw_values_never_appear() -> None:
    text = "Dr. Jane Roe, (937) 555-0123, jane@example.org, SSN 123-45-6789"
    one = PersonExtractor(SALT).extract(text)
    two = PersonExtractor(SALT[::-1]).extract(text)
    assert {r.digest for r in one.refs}.isdisjoint({r.digest for r in two.refs})
    dump = repr(one) + repr(PersonExtractor(SALT))
    for raw in ("Jane", "Roe", "555", "0123", "jane@", "6789", "unit-test-salt"):
        assert raw not in dump
    assert all(len(r.digest) == 64 and len(r.short) == 16 for r in one.refs)
    assert one.refs[0].key64 == int(one.refs[0].short, 16)


def test_short_salt_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        PersonExtractor(b"short")


@pytest.mark.parametrize(
    ("text", "nationality"),
    [
        ("phone (937) 555-0123", Nationality.US),
        ("SSN 123-45-6789", Nationality.US),
        ("phone +44 20 7946 0958", Nationality.FOREIGN),
        ("phone +44 20 7946 0958, a U.S. citizen", Nationality.US),
        ("phone +44 20 7946 0958, green card holder", Nationality.US),
        ("mail jane@example.org", Nationality.UNKNOWN),
        ("mail jane@example.org, she lives in Ohio", Nationality.US),
        ("mail jane@example.org in Chicago", Nationality.US),
        ("mail jane@example.org, Dayton, OH", Nationality.US),
        ("mail jane@example.org, an American", Nationality.US),
        ("mail jane@example.org, a foreign national", Nationality.FOREIGN),
        ("mail jane@example.org, a non-U.S. person", Nationality.FOREIGN),
    ],
)
def test_nationality(extractor: PersonExtractor, text: str, nationality: Nationality) -> None:
    refs = extractor.extract(text).refs
    assert [r.nationality for r in refs] == [nationality]


def test_indicators_are_labels_only(extractor: PersonExtractor) -> None:
    got = extractor.extract("Jane, U.S. citizen, (937) 555-0123, Dayton, OH, Chicago").indicators
    assert set(got) == {"us_phone", "citizenship", "state", "city"}


def test_persons_picks_one_identifier_per_person(extractor: PersonExtractor) -> None:
    one = extractor.extract("Dr. Jane Roe, (937) 555-0123, 12 Oak Street, jane@example.org")
    assert [r.kind for r in one.persons()] == [IdentifierKind.PHONE]
    many = extractor.extract(
        " ".join(f"({n}) 555-01{i:02d}" for i, n in enumerate(range(201, 211)))
    )
    assert len(many.persons()) == 10
    assert extractor.extract("nothing here").persons() == ()
