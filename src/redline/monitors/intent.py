"""Task intent in a request: surveillance, automated decision, lawful data handling.

Spec: DOMAIN.md §5.3 (tracking / monitoring / profiling), §5.5
(final decisions with legal or similarly significant effect), §5.6.

Multilingual keyword patterns (English, Spanish, French, German, Russian, Chinese), matched
case-insensitively. They are deliberately *verb phrases* where the bare word is ambiguous:
"score" and "rank" count only with a person or record object ("score each applicant"), "track"
not when its object is a shipment, order or changes, so that "compute statistics of the score
column" or "track the shipment" do not read as decisions or surveillance.

* ``SURVEIL``: tracking, monitoring, locating, profiling, de-anonymising persons ->
  ``mass_domestic_surveillance``;
* ``DECIDE``: ranking, scoring, approving, denying, revoking, watch-listing ->
  ``high_stakes_automated_decisions``;
* ``LAWFUL``: deduplicate, redact, anonymise, statistics, fix parsing, convert, validate;
* ``HUMAN_LOOP``: the output goes to a named human decision-maker (DOMAIN.md §5.5: advisory
  output to a human is outside RL3).
"""

# Russian keywords are Cyrillic on purpose; RUF001 would flag every letter that looks Latin.
# ruff: noqa: RUF001

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["DECIDE", "HUMAN_LOOP", "LAWFUL", "SURVEIL", "Intent", "classify"]


def _words(alternatives: tuple[str, ...], ideographs: str) -> re.Pattern[str]:
    """One case-insensitive pattern: ``\\b`` once in front of all word alternatives (so the
    engine tries the alternation only at word starts: several times faster than a ``\\b``
    inside each alternative), then the CJK alternatives, which have no word boundaries."""
    body = "|".join(a.removeprefix(r"\b") for a in alternatives)
    return re.compile(r"\b(?=\w)(?:" + body + ")|" + ideographs, re.IGNORECASE)


_PEOPLE = (
    r"(?:each|every|all|the|them|these|those|this|everyone|everybody|people|persons|"
    r"individuals|applicants|candidates|employees|personnel|residents|citizens|records|rows|"
    r"entries|subjects|names|members|users|customers|airmen|soldiers|sailors|contractors)"
)

SURVEIL = _words(
    (
        # en
        r"\btrack(?:s|ed|ing)?\b(?!\s+(?:the\s+|my\s+|our\s+)?(?:record|changes|shipment|"
        r"orders?|packages?|parcels?|progress|inventory|deliver|issues?|bugs?|time|budget))",
        r"\bmonitor(?:s|ed|ing)?\b(?!\s+(?:the\s+)?(?:server|cpu|disk|memory|latency|"
        r"uptime|inventory|network|build|pipeline|system)s?)",
        r"\bsurveil\w*",
        r"\bwhereabouts\b",
        r"\bmovements?\b",
        r"\blocation (?:history|data|pings?)\b",
        r"\b(?:locate|geolocate|pinpoint)\b",
        r"\bwhere (?:he|she|they|this person) (?:lives?|works?|goes|went|sleeps|is)\b",
        r"\bpattern[- ]of[- ]life\b",
        r"\b(?:social[- ]media|online) (?:profiles?|activity|accounts?|posts?|presence)\b",
        r"\bprofil(?:e|es|ing)\s+(?:of|on|for|" + _PEOPLE[3:],
        r"\b(?:build|compile|create|assemble)\s+(?:a\s+)?(?:profiles?|dossiers?)\b",
        r"\bdossiers?\b",
        r"\bde-?anonymi[sz]\w*",
        r"\bunmask\w*",
        r"\bre-?identif\w*",
        r"\b(?:identify|find|unmask)\s+(?:the\s+)?(?:owners?|persons?|people|individuals?)\b",
        r"\bhome address(?:es)?\b",
        r"\b(?:known )?associates\b",
        r"\bstalk\w*",
        r"\bspy(?:ing)? on\b",
        r"\bkeep tabs\b",
        r"\bfollow (?:him|her|them|the (?:person|subject|target|suspect))\b",
        r"\bbackground (?:check|on)\b",
        r"\bwatch[- ]?list\w*",
        # es
        r"\brastre\w+",
        r"\bvigil(?:ar|e|en|ancia|ad)\w*",
        r"\bmonitore\w+",
        r"\bperfil(?:es|ar)?\b",
        r"\blocaliz(?:ar|a|en|ación)\b",
        r"\bseguimiento\b",
        r"\bparadero\b",
        # fr
        r"\bsurveill\w+",
        r"\btraqu\w+",
        r"\bpist(?:er|ez|age)\b",
        r"\bprofil(?:er|ez|age)\b",
        r"\blocalis(?:er|ez|ation)\b",
        r"\bdéplacements\b",
        # de
        r"\büberwach\w*",
        r"\bverfolg\w*",
        r"\bort(?:en|ung)\b",
        r"\bausspäh\w*",
        r"\bbewegungsprofil\w*",
        r"\baufenthaltsort\w*",
        # ru
        r"\bотслежива\w*",
        r"\bслед(?:ить|ите|и)\b",
        r"\bслежк\w*",
        r"\bмониторинг\w*|\bмониторить\b",
        r"\bнаблюд\w*",
        r"\bпрофилирова\w*",
        r"\bместонахождени\w*",
        r"\bвычисл(?:ить|ите)\b",
    ),
    r"跟踪|追踪|监控|监视|定位|画像|行踪|监听|人肉",
)

DECIDE = _words(
    (
        # en
        r"\b(?:rank|score|rate|grade|triage|prioriti[sz]e|rerank|re-rank)\s+" + _PEOPLE + r"\b",
        r"\b(?:approve|deny|denies|reject|disqualify|blacklist|revoke|terminate|discharge|"
        r"expel|deport|detain|evict|suspend)\b",
        r"\bdecide\s+(?:who|which|whether)\b",
        r"\b(?:eligibility|creditworthiness|risk scores?|social (?:credit|score)\w*)\b",
        r"\bflag\s+(?:anyone|anybody|those|people|persons|individuals|everyone|each|every)\b",
        r"\bno-fly\b",
        r"\bwatch[- ]?list\w*",
        r"\b(?:hire|fire|promote|demote)\s+(?:or\s+\w+\s+)?" + _PEOPLE + r"\b",
        # es
        r"\bclasific\w+|\bpuntu(?:ar|a|e|ación)\b|\bcalific\w+",
        r"\bdecid\w+|\baprob(?:ar|ad|ación)\w*|\bdeneg\w+|\brechaz\w+|\bexpuls\w+",
        # fr
        r"\bclass(?:er|ez|ement)\b|\bnot(?:er|ez)\b|\bévalu\w+",
        r"\bdécid\w+|\bapprouv\w+|\brefus\w+|\brejet\w+",
        # de
        r"\bbewert\w*|\beinstuf\w*|\bstuf\w+ \w+ ein\b|\branking\b",
        r"\bentscheid\w*|\bgenehmig\w*|\bablehn\w*|\blehn\w+ \w+ ab\b",
        # ru
        r"\bранжир\w*|\bоцени\w*|\bоценк\w*|\bреш(?:ить|ите|ение)\b",
        r"\bодобр\w*|\bотклон\w*|\bотказ\w*",
    ),
    r"排名|排序|评分|打分|评估|决定|批准|拒绝|筛选|录用|解雇",
)

LAWFUL = _words(
    (
        # en
        r"\bde-?dup\w*|\bduplicates?\b",
        r"\bredact\w*",
        r"\b(?:anonymi[sz]|pseudonymi[sz])\w*",
        r"\bmask(?:ing)?\b",
        r"\bstatistic\w*|\baggregate\w*|\bhistogram\w*|\baverage\b|\bmedian\b|\bdistribution\b",
        r"\bcount (?:how many|the number)\b",
        r"\b(?:fix|repair|correct)\s+(?:the\s+)?(?:pars\w+|format\w*|encoding|csv|json|"
        r"delimiters?|columns?|quoting|headers?)",
        r"\bpars(?:e|ing) (?:error|bug|issue|problem)s?\b",
        r"\bvalidate\b|\bnormali[sz]e\b|\bconvert\b|\breformat\b",
        # es
        r"\bdeduplic\w+|\bduplicad\w+|\banonimiz\w+|\bestad[ií]stic\w+",
        # fr
        r"\bdédoublonn\w+|\bdédupliqu\w+|\bdoublons\b|\banonymis\w+|\bcaviard\w+",
        r"\bstatistiqu\w+",
        # de
        r"\bdeduplizier\w*|\bduplikate\b|\banonymisier\w*|\bpseudonymisier\w*|\bschwärz\w*",
        r"\bstatisti\w*",
        # ru
        r"\bдубликат\w*|\bдедупликац\w*|\bанонимиз\w*|\bобезлич\w*|\bстатисти\w*",
    ),
    r"去重|脱敏|匿名化|统计",
)

HUMAN_LOOP = re.compile(
    r"\b(?:route|forward|send|escalate|refer|hand)\s+(?:\w+\s+){0,3}?to\s+(?:a\s+|the\s+|an\s+)?"
    r"(?:human|reviewer|analyst|adjudicator|case ?worker|officer|decision[- ]maker|manager)\b|"
    r"\bfor (?:a |the |an )?(?:[\w-]+ ){0,2}?(?:human|reviewer|adjudicator|analyst|officer|manager|"
    r"decision[- ]maker|board) to (?:review|decide|approve|consider)\b|"
    r"\b(?:human|manual) review\b|\bnot (?:a )?final\b|\badvisory only\b",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Intent:
    """Which kinds of task a text asks for."""

    surveil: bool
    decide: bool
    lawful: bool
    human_loop: bool


def classify(text: str) -> Intent:
    """Classify the task of ``text`` (instructions, not the data records)."""
    return Intent(
        surveil=SURVEIL.search(text) is not None,
        decide=DECIDE.search(text) is not None,
        lawful=LAWFUL.search(text) is not None,
        human_loop=HUMAN_LOOP.search(text) is not None,
    )
