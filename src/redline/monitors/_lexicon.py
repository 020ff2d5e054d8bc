"""Word lists used by the person extractor: U.S. states, big cities, name stop-words.

Data only. City names are matched case-sensitively as whole words; state abbreviations only
in address position (``", OH"``, ``"OH 45402"``) because ``IN``, ``OR``, ``ME`` are words.
"""

from __future__ import annotations

__all__ = ["BIG_CITIES", "NAME_STOPWORDS", "STATE_ABBREVIATIONS", "STATE_NAMES"]

STATE_NAMES: frozenset[str] = frozenset(
    """Alabama Alaska Arizona Arkansas California Colorado Connecticut Delaware Florida Georgia
    Hawaii Idaho Illinois Indiana Iowa Kansas Kentucky Louisiana Maine Maryland Massachusetts
    Michigan Minnesota Mississippi Missouri Montana Nebraska Nevada Ohio Oklahoma Oregon
    Pennsylvania Tennessee Texas Utah Vermont Virginia Washington Wisconsin Wyoming""".split()
) | frozenset(
    {
        "New Hampshire",
        "New Jersey",
        "New Mexico",
        "New York",
        "North Carolina",
        "North Dakota",
        "Rhode Island",
        "South Carolina",
        "South Dakota",
        "West Virginia",
        "District of Columbia",
        "Puerto Rico",
    }
)

STATE_ABBREVIATIONS: frozenset[str] = frozenset(
    """AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH
    NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY DC PR GU VI AS MP""".split()
)

BIG_CITIES: frozenset[str] = frozenset(
    {
        "New York City",
        "Los Angeles",
        "Chicago",
        "Houston",
        "Phoenix",
        "Philadelphia",
        "San Antonio",
        "San Diego",
        "Dallas",
        "San Jose",
        "Austin",
        "Jacksonville",
        "Fort Worth",
        "Columbus",
        "Charlotte",
        "Indianapolis",
        "San Francisco",
        "Seattle",
        "Denver",
        "Oklahoma City",
        "Nashville",
        "El Paso",
        "Boston",
        "Portland",
        "Las Vegas",
        "Detroit",
        "Memphis",
        "Louisville",
        "Baltimore",
        "Milwaukee",
        "Albuquerque",
        "Tucson",
        "Fresno",
        "Sacramento",
        "Mesa",
        "Kansas City",
        "Atlanta",
        "Omaha",
        "Colorado Springs",
        "Raleigh",
        "Miami",
        "Minneapolis",
        "Tulsa",
        "Cleveland",
        "Wichita",
        "Arlington",
        "New Orleans",
        "Bakersfield",
        "Tampa",
        "Honolulu",
        "Anaheim",
        "Pittsburgh",
        "Cincinnati",
        "St. Louis",
        "Orlando",
        "Newark",
        "Buffalo",
        "Dayton",
        "Salt Lake City",
        "Brooklyn",
        "Queens",
        "Manhattan",
        "Anchorage",
    }
)

#: Capitalised words that start sentences or name places and things, not people.
NAME_STOPWORDS: frozenset[str] = frozenset(
    """The A An This That These Those It Its He She They We You I My Our Your His Her Their
    And Or But If Then When Where What Who Why How Please Thanks Thank Hello Hi Dear
    Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March April May
    June July August September October November December Street Avenue Road Boulevard Drive
    United States America American Army Navy Air Force Marine Corps Department Office Agency
    County City State North South East West New Saint Fort Mount Lake Port San Los Las
    Inc Corp LLC Ltd Company Group Bank University College School Hospital Police Court
    Subject Target Person Name Named Report Case File Record Note Unknown None Null""".split()
)
