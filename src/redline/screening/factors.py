"""Legal-test factors, detected as simple questions and combined by the trained head.

DOMAIN.md §5.3 and §5.5 decompose each red line into factors: who the subjects are (U.S.
persons? foreign?), scale and persistence (population-wide, standing monitoring,
commercially acquired data, protected activity), whether the model engages or a human
decides, and whether an effect on a person is final or advisory. Each factor here is a
multilingual pattern whose match count becomes a feature; the classifier learns how they
combine, and the evidence spans tell a reviewer why a request was stopped.

Patterns match normalised, lower-cased text (see :mod:`redline.screening.normalize`).
Lexicons cover English plus the most common terms in es, fr, de, pt, it, ru, uk, zh, ja,
ko, ar, fa, hi, tr and pl, and the euphemistic design language of specs and diffs
("independent prosecution", "the effector resolves the contact", "consent assumed on
timeout", "AGREE pre-selected", "auto-resolve to revocation", "selectors: none"); they are
deliberately broad: a factor is a hint, never a decision. RE2's ``\\w`` and ``\\b`` are
ASCII-only, so alternatives in other scripts use ``\\pL`` and no word boundaries.
"""

# ruff: noqa: E501 - the lexicons are data: one alternative per line reads better unwrapped

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import re2

__all__ = [
    "FACTORS",
    "Factor",
    "factor_counts",
    "factor_counts_each",
    "factor_hits",
    "factor_spans",
    "match_counts",
    "matching_factors",
]


class _Match(Protocol):
    def group(self, index: int = 0) -> str: ...


class _Pattern(Protocol):
    def findall(self, text: str) -> list[str]: ...

    def finditer(self, text: str) -> list[_Match]: ...

    def search(self, text: str) -> _Match | None: ...

    @property
    def pattern(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Factor:
    """A named pattern; ``red_line`` is the category it is evidence for (or ``allow``)."""

    name: str
    red_line: str
    pattern: _Pattern


def _options() -> object:
    options = re2.Options()
    options.case_sensitive = False
    options.max_mem = 32 << 20
    return options


_OPTIONS = _options()


def _p(*alternatives: str) -> _Pattern:
    # RE2: linear-time automata, no backtracking: measured 12x faster than the stdlib ``re``
    # on these lexicons (144 us vs 1.77 ms per 500 characters) and safe on hostile input.
    pattern: _Pattern = re2.compile("|".join(f"(?:{a})" for a in alternatives), _OPTIONS)
    return pattern


_US_STATES = (
    "alabama|alaska|arizona|arkansas|california|colorado|connecticut|delaware|florida|georgia|"
    "hawaii|idaho|illinois|indiana|iowa|kansas|kentucky|louisiana|maine|maryland|massachusetts|"
    "michigan|minnesota|mississippi|missouri|montana|nebraska|nevada|new hampshire|new jersey|"
    "new mexico|new york|north carolina|north dakota|ohio|oklahoma|oregon|pennsylvania|"
    "rhode island|south carolina|south dakota|tennessee|texas|utah|vermont|virginia|washington|"
    "west virginia|wisconsin|wyoming|puerto rico"
)
_US_CITIES = (
    "portland|seattle|chicago|detroit|dearborn|atlanta|houston|dallas|austin|phoenix|denver|"
    "boston|philadelphia|baltimore|miami|los angeles|san francisco|oakland|minneapolis|"
    "st\\.? louis|new orleans|las vegas|san diego|brooklyn|queens|bronx|maricopa|cook county|"
    "el paso|tucson|albuquerque|nashville|memphis|cleveland|pittsburgh|milwaukee|sacramento"
)

FACTORS: tuple[Factor, ...] = (
    # --- RL1: mass domestic surveillance --------------------------------------------------
    Factor(
        "us_persons",
        "mass_domestic_surveillance",
        _p(
            r"\bamericans?\b",
            r"\bu\.?s\.?[- ]?(?:persons?|citizens?|residents?|nationals?|people)\b",
            r"\b(?:citizens|residents|voters|people|everyone|households) (?:of|in) (?:the )?(?:u\.?s|united states|america)",
            r"\bdomestic\b",
            r"\bzip ?codes?\b",
            r"\bvoter (?:roll|file|registration)s?\b",
            r"\b(?:" + _US_STATES + r")\b",
            r"\b(?:" + _US_CITIES + r")\b",
            r"\bsocial security\b",
            r"\bgreen card\b",
            r"\blawful permanent\b",
            r"estadounidenses?|ciudadanos (?:de ee\.? ?uu|norteamericanos)|américains?|citoyens américains",
            r"us-b[üu]rger|amerikaner|amerikanische[nr]? (?:b[üu]rger|staatsb)|cidad[ãa]os americanos|norte-americanos",
            r"cittadini (?:americani|statunitensi)|американц|граждан\w* сша|громадян\w* сша|американськ",
            r"美国公民|美国人|美國公民|美国居民|アメリカ人|米国民|米国市民|미국 시민|미국인|미국 국민",
            r"مواطن\w* (?:ال)?أمريكي|الأمريكيين|شهروندان آمریکا|آمریکایی",
            # Multilingual and design-language phrasings (RE2: \w and \b are ASCII-only,
            # so non-Latin alternatives use \pL and no word boundaries).
            r"\bu\.?s\.?[- ](?:registered|based|subscribers?|accounts?|users?|devices?|handsets?|numbers?|members?|employees?|journalists?|carriers?|adults?)\b",
            r"\b(?:in|inside|within|across) the (?:u\.?s\.?|united states)\b|\bin the homeland\b",
            r"американск|в сша|жител\pL* сша|граждан\pL* сша|громадян\pL* сша|в штатах",
            r"us-staatsb|amerikanisch|ressortissants? américains?|résidant aux états-unis|cidad[ãa]o americano|americanos? en|en (?:ee\.? ?uu|estados unidos)|us citizen",
            r"amerykan|obywatel\pL* usa|w usa\b|amerikalı|abd vatandaş|abd'deki|abd'de",
            r"미국 ?국적|미국 번호|미국 내|미국 쪽|재미|주한미군|미국 시민권자|미국 유학생|미국인으로",
            r"米国人|在日米国人|米国籍|米国内|在美|美国境内|美国订阅者|美国用户|美籍",
            r"الأمريكي|أمريكيين|الأمريكية|أمريكي|مواطن\pL* (?:ال)?أمريكي|في أمريكا|العرب الأمريكيين",
            r"آمریکایی|شهروند آمریکا|ساکن (?:آمریکا|لس)",
            r"अमेरिकी|अमेरिका में",
        ),
    ),
    Factor(
        "population_scale",
        "mass_domestic_surveillance",
        _p(
            r"\b(?:every|all|entire|whole) (?:\w+ ){0,2}(?:population|residents?|citizens?|members?|users?|households?|city|county|metro|district|neighbou?rhood|state|community|attendees|employees|subscribers|devices?|vehicles?|phones?)\b",
            r"\beveryone\b",
            r"\bmillions?\b",
            r"\btens of thousands\b",
            r"\bbulk\b",
            r"\ben masse\b",
            r"\bdragnet\b",
            r"\bat scale\b",
            r"\bpopulation[- ]scale\b",
            r"\bno (?:specific )?(?:selectors?|discriminants?)\b",
            r"\ball (?:of )?(?:them|the people|residents|accounts)\b",
            r"\b\d{1,3}(?:,\d{3})+ (?:people|persons|residents|users|records|profiles)\b",
            r"todos los (?:residentes|ciudadanos|habitantes|usuarios)|toda la población|tous les (?:habitants|résidents|citoyens|utilisateurs)|toute la population",
            r"alle (?:einwohner|bürger|nutzer|bewohner)|gesamte bevölkerung|todos os (?:moradores|cidadãos|residentes)|tutti i (?:residenti|cittadini)",
            r"всех (?:жителей|граждан|пользователей)|всё население|всіх (?:мешканців|громадян)|所有(?:居民|公民|用户|人)|全体(?:居民|市民)|全市|すべての(?:住民|市民)|全住民|모든 (?:주민|시민|사용자)",
            r"جميع (?:السكان|المواطنين)|همه (?:ساکنان|شهروندان)",
            # Multilingual and design-language phrasings (RE2: \w and \b are ASCII-only,
            # so non-Latin alternatives use \pL and no word boundaries).
            r"\ball (?:domestic|u\.?s\.?) (?:traffic|accounts?|devices?|users?|persons?)\b|\bevery (?:u\.?s\.?|american) (?:account|device|user|adult|person)\b",
            r"\bmaximi[sz]e recall\b|\brecall[- ]first\b|\bselectors?\s*[:=]\s*(?:none|null|\[\]|empty)|\bselectors (?:are )?intentionally empty|\bno pre-?filter",
            r"\ball (?:devices|subscribers|members|followers|attendees|commenters|handsets)\b|\beveryone who\b|\bfor each (?:owner|subscriber|member|resident|attendee|organi[sz]er)\b",
            r"весь (?:внутренний )?трафик|без селекторов|всех (?:подписчиков|американ\pL*|членов|участников|устройств|авторов)|всіх (?:підписників|американ\pL*|учасників)",
            r"전부|전체|모든 (?:기기|가입자|계정|멤버|회원|장병|트래픽)|필터는 걸지|선택자 없이|재현율을 최대화|한명한명",
            r"全端末|全員|すべての(?:端末|アカウント|加入者)|セレクタなし|全部流量|不设选择器|所有(?:设备|账户|成员|订阅者)|最大化召回|全部社交",
            r"كل (?:حركة|الحسابات|الأجهزة|أعضاء|سكان|مستخدمي)|جميع (?:الحسابات|الأجهزة|الأعضاء|سكان|الأمريكيين)|دون محد|بدون محدد",
            r"همه (?:کاربران|حساب|اعضا|شهروندان)|सभी (?:अमेरिकी|लोगों|उपयोगकर्ता|यूज़र्स|भारतीय)",
            r"bütün (?:üyeleri|kullanıcı|hesap)|tüm (?:kullanıcı|hesap|trafiğ)|wszystkich (?:amerykanów|mieszkańców|użytkowników)",
            r"todos los (?:suscriptores|miembros|teléfonos|dispositivos)|tous les (?:abonnés|ressortissants)|l'ensemble du trafic|gesamten (?:verkehr|datenverkehr)|alle (?:geräte|konten|us-)|todos os (?:assinantes|usuários)",
        ),
    ),
    Factor(
        "tracking_task",
        "mass_domestic_surveillance",
        _p(
            r"\btrack(?:s|ed|ing)?\b",
            r"\bmonitor(?:s|ed|ing)?\b",
            r"\bsurveil",
            r"\bprofil(?:e|es|ing)\b",
            r"\bdossiers?\b",
            r"\bpattern[- ]of[- ]life\b",
            r"\bmovements?\b",
            r"\blocation (?:history|data|pings?|trail)\b",
            r"\bwhere (?:they|he|she|each|every) (?:go|goes|went|live|lives)",
            r"\bgeofenc",
            r"\bde-?anonymi",
            r"\bunmask",
            r"\bkeep tabs\b",
            r"\bkeep an eye\b",
            r"\bwatch(?:ing)? (?:them|their|for)\b",
            r"\bflag (?:users|people|residents|anyone|individuals)\b",
            r"\bidentify (?:every|all|each|who)\b",
            r"\bface (?:gallery|database|recognition|match)",
            r"\bfacial recognition\b",
            r"\bradicali[sz]ation score",
            r"\bsocial[- ]media (?:posts|activity|accounts|monitoring)",
            r"vigil(?:ar|ancia|ância|anza)|rastre(?:ar|o)|seguimiento|perfil(?:es|ar)|surveill(?:er|ance)|traquer|pister|fichage",
            r"überwach|verfolg|profil(?:e|ing) erstellen|monitorar|rastrear|sorvegli|tracciare|pedinare",
            r"слеж|отслеж|наблюд(?:ать|ение) за|досье|стеж(?:ити|ення)|відстеж|монітор",
            r"监控|监视|跟踪|追踪|档案|監視|追跡|監控|감시|추적|사찰|مراقبة|تتبع|رصد|نظارت|ردیابی|شنود",
            # Multilingual and design-language phrasings (RE2: \w and \b are ASCII-only,
            # so non-Latin alternatives use \pL and no word boundaries).
            r"\bde-?anon\b|\bdeanon|\bresolve (?:the |each |every )?(?:handles?|accounts?|devices?|members?|subscribers?|plates?) to (?:a |the )?(?:legal |real )?(?:names?|owners?|identit)",
            r"\bsubscriber resolution\b|\bwatch ?file\b|\brunning (?:file|log)\b|\blink charts?\b|\bcontact graph\b|\bco-?location graph\b|\bmovement (?:profiles?|histor)",
            r"\bwho (?:they|he|she) (?:meet|meets|talks? to)\b|\bwho'?s been visiting\b|\bhome (?:locations?|address(?:es)?)\b",
            r"деаноним|деанон |установ\pL* личност|розкри\pL* анонімн|деанонім|слідку|профил\pL* на каждого",
            r"신상|실명을? (?:밝|확인|찾)|익명성? 해제|위치를? (?:추적|계속)|이동 경로|동향|누군지 찾",
            r"身元を?特定|位置情報を|去匿名|真实身份|实名|行踪|动向",
            r"كشف هوي|اكشف هو|تتبّ?ع|راقب|ملف(?:اً)? عن كل|أسماء وعناوين",
            r"شناسایی کن|فاش کن|ردیابی|पहचान उजागर|ट्रैक|नज़र रख|निगरानी",
            r"takip et|kimlik\pL* ortaya|\bizle|śledz|śledź|profiluj|ustal\pL* tożsamoś",
            r"desanonimiz|rastre[ae]|trackea|désanonymis|suivez la position|suivre (?:la position|les déplacements|leur activité)|deanonymis|bewegungsprofil|rastreie",
        ),
    ),
    Factor(
        "persistence",
        "mass_domestic_surveillance",
        _p(
            r"\bevery (?:day|morning|night|hour|week|\d+ (?:minutes|hours|seconds))\b",
            r"\bdaily\b",
            r"\bhourly\b",
            r"\bcontinuous(?:ly)?\b",
            r"\bstanding (?:watch|query|monitor|alert)",
            r"\bongoing\b",
            r"\bin real[- ]time\b",
            r"\balert me (?:when|if|to|whenever)\b",
            r"\bwhenever (?:they|he|she|anyone)\b",
            r"\bnew (?:contacts|posts|locations)\b",
            r"cada (?:día|mañana|hora)|diariamente|chaque (?:jour|matin)|quotidien|täglich|jeden (?:tag|morgen)|ежедневно|каждый день|щодня|每天|毎日|매일|يوميا|هر روز",
            # Multilingual and design-language phrasings (RE2: \w and \b are ASCII-only,
            # so non-Latin alternatives use \pL and no word boundaries).
            r"\bevery \d+ ?min\b|\bnightly\b|\bweekly\b|\brolling \d+[- ]day|\bfor the next (?:month|\d+ days|weeks?|year)\b|@hourly|\bkeep (?:it )?(?:refreshed|updated|watching)",
            r"каждый час|ежечасно|каждые \d+|в течение (?:следующего )?месяца|еженедельно|щогодини|щотижня",
            r"매시간|지속적으로|한 ?달(?:간| 동안)|앞으로 한|계속 추적|毎時|継続的|来月いっぱい|每小时|持续",
            r"طوال الشهر|باستمرار|بشكل مستمر|أسبوعي|تا یک ماه|به‌طور مداوم|हर हफ़्ते|लगातार|अगले (?:एक )?महीने|रोज़",
            r"her gün|sürekli|bir ay boyunca|codziennie|przez (?:cały )?następny miesiąc",
            r"a diario|durante el próximo mes|por un mes|en continu|pendant (?:un|le prochain) mois|chaque semaine|fortlaufend|laufend|wöchentlich|durante o próximo mês",
        ),
    ),
    Factor(
        "commercial_data",
        "mass_domestic_surveillance",
        _p(
            r"\bdata[- ]?brokers?\b",
            r"\bpurchased\b",
            r"\bbought\b",
            r"\bcommercially (?:available|acquired|purchased)\b",
            r"\bad(?:vertising)?[- ]?ids?\b",
            r"\bmaids?\b",
            r"\balpr\b",
            r"\blicen[cs]e[- ]plate (?:readers?|reads|cameras?)\b",
            r"\bbrowsing (?:histor|data)",
            r"\blocation (?:pings|data|feed)",
            r"\bcell[- ]?(?:phone|site) (?:location|data)",
            r"\bgeolocation data\b",
            r"\bvendor feed\b",
            r"\bcredit header\b",
            r"\bapp (?:sdk )?data\b",
            r"\bscrap(?:e|ed|ing)\b",
            r"corredor(?:es)? de datos|datos comprados|courtier en données|données achetées|datenhändler|gekaufte daten",
            r"брокер\w* данных|купленн\w* данн|数据经纪|购买的数据|データブローカー|데이터 브로커|وسطاء البيانات",
            # Multilingual and design-language phrasings (RE2: \w and \b are ASCII-only,
            # so non-Latin alternatives use \pL and no word boundaries).
            r"\bad[- ]?id graph\b|\bresolver\b|брокер\pL* данных|купленн\pL* данн|\bbroker[_ ]?pings?\b|\bbroker (?:apis?|data)\b|\bleak(?:ed)? (?:db|data)",
            r"рекламн\pL* (?:идентификатор|ідентифікатор)|купи\pL* у брокера|слив номеров|злит\pL* номер|витік",
            r"광고 ?id|광고 식별자|구매한|구매해|広告id|購入した|广告 ?id|买来的|购买的",
            r"بيانات (?:الإعلانات|إعلانية)|مشتراة|ad ids? مشتراة|خریداری‌?شده|خریداری شده|ख़रीदे गए|खरीदे गए|विज्ञापन डेटा",
            r"satın alınan|reklam kimlik|od brokera|danych (?:od )?brokera|ids? de publicidad|comprad[oa]s|identifiants publicitaires|achet[ée]s|werbedaten|gekauften|ids? de publicidade|comprados",
        ),
    ),
    Factor(
        "protected_activity",
        "mass_domestic_surveillance",
        _p(
            r"\bprotest",
            r"\brall(?:y|ies)\b",
            r"\bdemonstrat(?:ion|ors)\b",
            r"\bjournalists?\b",
            r"\breporters?\b",
            r"\breligio",
            r"\bmosques?\b",
            r"\bchurch(?:es)?\b",
            r"\bsynagogues?\b",
            r"\bmuslims?\b",
            r"\bactivists?\b",
            r"\bpolitical (?:views|leaning|affiliation|opinions?|beliefs)\b",
            r"\banti-?government\b",
            r"\bdissent",
            r"\bunion (?:members|organi[sz]ers)\b",
            r"\bcritici[sz]",
            r"\bimmigrant (?:advocates|groups)\b",
            r"\blgbt",
            r"protesta|manifestant|periodista|journaliste|manifestation|religi[oó]n|mezquita|mosquée",
            r"demonstrant|journalist|moschee|протест|митинг|журналист|мечет|抗议|记者|示威|清真寺|デモ|記者|시위|기자|احتجاج|صحفي|مسجد",
            # Multilingual and design-language phrasings (RE2: \w and \b are ASCII-only,
            # so non-Latin alternatives use \pL and no word boundaries).
            r"\bunion (?:rally|drive|town-?hall)\b|\borgani[sz](?:ers?|ing) against\b|\bopposition party\b|\bclinics?\b|\bdonat(?:ed|ions?) to\b",
            r"반정부|정치 성향|교회|신도|抗議|政治的傾向|批评政府|政治倾向",
            r"مساجد|الآراء السياسية|معترض|اعتراض|विरोध प्रदर्शन|आलोचना|मस्जिद|मंदिर",
            r"protesto|muhalif|gazeteci|demonstracj|dziennikar|manifestac|demonstra[çc]",
        ),
    ),
    Factor(
        "minimization",
        "allow",
        _p(
            r"\bminimi[sz]",
            r"\bredact",
            r"\bmask(?:ed|ing)?\b",
            r"\banonymi[sz]",
            r"\bde-?identif",
            r"\bu\.?s\.? person \d",
            r"\bremove (?:all )?(?:pii|names|identifiers)\b",
            r"\baggregate(?:d)? (?:statistics|counts)\b",
            r"\bstatistics\b",
            r"anonimi[zs]|minimi[zs]a|anonymis|schwärz|anonymisier|анонимиз|обезлич|匿名|脱敏|익명|إخفاء الهوية",
            # Multilingual and design-language phrasings (RE2: \w and \b are ASCII-only,
            # so non-Latin alternatives use \pL and no word boundaries).
            r"\bno (?:individual|personal|per-?person|per-?device|device or person) (?:data|identifiers|history|records)|\bno (?:names|identifiers|pii)\b|\bk-?anonymity\b",
            r"\baggregate(?:s|d)?\b|\bu\.?s\.? person (?:n\b|\d)|\bmask(?:s)? (?:any|all|the)\b|\bsmall-cell suppression\b|\bgroup-level\b",
            r"замаскир|без имён|агрегированн|статистик|без імен|обезличенн",
            r"가려|마스킹|익명 통계|집계|個人を特定しない|集計|汇总|匿名",
            r"أخف|إخفاء|مجم\S*عة|مجهولة الهوية|بدون أسماء|دون أسماء|پنهان کن|بی‌نام|آمار (?:کلی|بی)",
            r"छिपा|गुमनाम|आँकड़े|maskele|anonim|toplam (?:sayı|istatistik)|bez (?:żadnych )?danych osobowych|anonimow|statystyk",
            r"sin datos (?:personales|individuales)|agregad|masquez|agrégé|sans (?:aucune )?donnée|ohne personenbezogene|mascare|sem dados|estatísticas an[ôo]nimas",
        ),
    ),
    Factor(
        "foreign_target",
        "allow",
        _p(
            r"\bforeign\b",
            r"\bnon-?u\.?s\.?\b",
            r"\babroad\b",
            r"\boverseas\b",
            r"\badversar",
            r"\benemy\b",
            r"\bhostile\b",
            r"\binsurgen",
            r"\bisis\b",
            r"\bisil\b",
            r"\bal-?qa(?:e|i)da\b",
            r"\bpla\b",
            r"\bwagner\b",
            r"\bhouthi",
            r"\b(?:russian|chinese|iranian|north korean) (?:forces|navy|military|units?|officers?|vessels?|intelligence)\b",
            r"extranjer|étranger|ausländ|иностран|зарубеж|外国|海外|외국|أجنبي|خارجی",
            # Multilingual and design-language phrasings (RE2: \w and \b are ASCII-only,
            # so non-Latin alternatives use \pL and no word boundaries).
            r"\bforeign intelligence\b|\bfi[- ](?:tasking|requirement)\b|\bfi-\d|\brequirement \d|\bpla ?n(?:avy)?\b|\bplan vessels\b|\bgru\b|\bcartel\b",
            r"북한|해외|정찰총국|外国|境外|解放军|中国海軍|ГРУ|вагнер|ЗСУ|вс рф|росій|иностранн",
            r"داعش|الحوثي|حزب الله|الحرس الثوري|سپاه|विदेशी|विदेश",
            r"yabancı|terör örgüt|zagraniczn|białorus|rosyjsk|estrangeir|extranjer|cártel",
        ),
    ),
    Factor(
        "lawful_authority",
        "allow",
        _p(
            r"\bwarrant(?:ed|s)?\b",
            r"\bcourt order\b",
            r"\bfisa (?:order|warrant)\b",
            r"\bsubpoena",
            r"\bpredicated\b",
            r"\bcase (?:number|no\.?|file)\b",
            r"\bauthori[sz]ed (?:under|by|investigation)\b",
            r"\blegal authority\b",
            r"\bconsent[- ]to[- ]monitor\b",
            r"\bconsent banner\b",
            r"\bour own (?:network|enclave|systems)\b",
            r"orden judicial|mandat judiciaire|richterlich|ордер|санкци\w* суда|搜查令|令状|영장|مذكرة قضائية",
            # Multilingual and design-language phrasings (RE2: \w and \b are ASCII-only,
            # so non-Latin alternatives use \pL and no word boundaries).
            r"\bfisc? (?:order|docket)\b|\bfisa[- ]authori[sz]ed\b|\bsection 702 tasking|\bexigent\b|\bdocket\b|\b\d+:\d+-(?:mj|cr|cv)-\d+|\bgrand[- ]jury\b|\bamber alert\b|\bcase \d",
            r"사건번호|事件番号|法院命令|أمر قضائي|أمر محكمة|المذكرة القضائية|حکم دادگاه|वारंट|अदालत (?:के|का) आदेश",
            r"mahkeme kararı|nakaz|по ордеру|постановлени\pL* суда|mandamiento|mandat (?:n°|judiciaire)|gerichtsbeschluss|durchsuchungsbeschluss|mandado",
        ),
    ),
    # --- RL2: directing autonomous weapons -----------------------------------------------
    Factor(
        "weapon_effector",
        "autonomous_weapons",
        _p(
            r"\bengag(?:e|es|ed|ement|ing)\b",
            r"\bfire\b",
            r"\bstrikes?\b",
            r"\blaunch(?:es|ed|er)?\b",
            r"\brelease (?:authori[sz]ation|the (?:weapon|munition|payload)|weapons?)\b",
            r"\bdetonat",
            r"\bmissiles?\b",
            r"\bmunitions?\b",
            r"\bweapons?\b",
            r"\bloitering\b",
            r"\bkill chain\b",
            r"\bwarheads?\b",
            r"\bpayloads?\b",
            r"\bartillery\b",
            r"\bordnance\b",
            r"\blethal\b",
            r"\bseeker\b",
            r"\bswarms?\b",
            r"\bdrones?\b",
            r"\buavs?\b",
            r"\bturrets?\b",
            r"\bsentry gun",
            r"\bc-?uas\b",
            r"\blink[- ]?16\b",
            r"disparar|dispara|fuego|misil|munici[oó]n|arma(?:s|mento)?\b|dron(?:es)?|tirer|frapper|missile|munition|armes?",
            r"feuer|schießen|rakete|waffe|munition|drohne|огонь|стрел|ракет|боеприпас|оруж|дрон|удар|вогонь|зброя",
            r"开火|射击|导弹|弹药|武器|无人机|打击|発射|射撃|ミサイル|兵器|ドローン|발사|사격|미사일|무기|드론|أطلق|صاروخ|ذخيرة|سلاح|طائرة مسيرة|شلیک|موشک|پهپاد|سلاح",
            # Multilingual and design-language phrasings (RE2: \w and \b are ASCII-only,
            # so non-Latin alternatives use \pL and no word boundaries).
            r"\b(?:independent|autonomous) prosecution\b|\bprosecut(?:e|es|ing) (?:the )?(?:highest|target|contact|track)|\bresolves? the contact\b|\bservic(?:e|es|ed|ing) (?:the )?(?:target|track|queue|inbound)",
            r"\bdives? on\b|\bkill ?box\b|\bcommit[- ]to[- ]target\b|\bterminal (?:phase|engagement)\b|\binterceptors?\b|\bc-?ram\b|\brws\b|\bgun[- ]?\d\b|\bfpv\b|\bwinchester\b",
            r"자폭|포탑|탄약|교전|타격|공격|砲塔|攻撃|弾頭|突入|交戦|迎撃|自爆|炮塔|攻击|巡飞弹|交战|战斗部|打击",
            r"الانتحارية|البرج|ذخيرة|الاشتباك|يهاجم|اشتباك|الإطلاق|الصاروخ|مسيّ?رة|يضرب",
            r"برجک|حمله|سرجنگی|ड्रोन|हमला|फ़ायर|फायर|गोली|हथियार|बंदूक|वारहेड",
            r"\biha\b|taret|ateş|harp başlığı|saldır|głowic|wieżyczk|strzał|strzel|ogień|odpal",
            r"турел|атак|пуск|поражени|барражирующ|боев\pL+ част|фпв",
            r"torreta|merodeadora|atacar|ataque|tourelle|munition rôdeuse|effecteur|bekämpf|gefechtskopf|geschütz|disparo|drone kamikaze",
        ),
    ),
    Factor(
        "autonomy_no_human",
        "autonomous_weapons",
        _p(
            r"\bwithout (?:waiting|asking|a human|human|any human|the operator|operator|approval|confirmation|authori[sz]ation|oversight|intervention)",
            r"\bno (?:human|operator|person)(?:[- ]in[- ]the[- ]loop)?\b",
            r"\bautomatically\b",
            r"\bautonomous(?:ly)?\b",
            r"\bon (?:its|their) own\b",
            r"\bauto-?(?:approve|engage|fire|release|launch|target|strike)",
            r"\bdon'?t (?:ask|wait|check)",
            r"\bsilence (?:counts|is|as|=)",
            r"\bcounts? as consent\b",
            r"\bbypass(?:ing)? (?:the )?(?:operator|human|roe|abort|approval|confirmation)",
            r"\bremov(?:e|ing) (?:the )?(?:abort|wave-?off|human|confirmation|safety|operator|kill switch|roe)",
            r"\bskip(?:ping)? (?:the )?(?:confirmation|approval|operator|human)",
            r"\bcomms?(?:unications)? (?:loss|lost|denied)\b",
            r"\bafter (?:losing|loss of) (?:comms|link|contact)",
            r"\bwhen disconnected\b",
            r"\bfully autonomous\b",
            r"\bhands[- ]off\b",
            r"\bself-?(?:select|target)",
            r"\bpick(?:s|ing)? (?:its|their) own targets\b",
            r"\bimmediately execute",
            r"sin (?:esperar|intervención|aprobación|confirmación|operador)|automáticamente|autónom|sans (?:attendre|intervention|validation|opérateur)|automatiquement|autonome",
            r"ohne (?:zu warten|menschliche|freigabe|bestätigung|bediener)|automatisch|selbstständig|autonom|sem (?:esperar|aprovação)|automaticamente|senza (?:attendere|conferma)",
            r"без (?:ожидания|подтверждения|оператора|участия человека|человека)|автоматическ|автономн|самостоятельно|без (?:оператора|підтвердження)|автоматично",
            r"无需(?:人工|操作员|确认|等待)|不等(?:待)?操作员|自动(?:开火|打击|交战|批准)?|自主|人の(?:確認|承認)なし|自動的?に|自律|사람의? (?:승인|확인) 없이|자동으로|자율",
            r"دون (?:انتظار|موافقة|تدخل)|تلقائيا|بشكل مستقل|بدون (?:تایید|اپراتور)|خودکار",
            # Multilingual and design-language phrasings (RE2: \w and \b are ASCII-only,
            # so non-Latin alternatives use \pL and no word boundaries).
            r"\bindependent(?:ly)? (?:prosecution|engagement|targeting|mode)\b|\b(?:consent|approval) (?:is )?assumed\b|\blights-?out\b|\bunattended (?:posture|mode|operation)",
            r"\bwithout (?:a |the )?(?:watch[- ]?stander|crew|gunner|pilot|fdo|ground (?:station|handshake|control))\b|\bno (?:fdo|crew|watch[- ]?stander|pilot|operator) (?:step|needed|required|approval)\b",
            r"(?:operator|human)_?(?:ack|release|confirm\w*)_?(?:required)?\s*[:=]\s*(?:false|0|no)\b|\brequire_(?:human|operator)_\w+\s*[:=]\s*(?:false|0)|operatorackrequired: false",
            r"\bview-?only\b|\bjust for monitoring\b|\bmonitoring only\b|\bcrew presence is not required\b|\bno imagery (?:before|prior to) impact\b|\bfirst (?:signature )?match\b|\bhunt mode\b",
            r"\bunless the operator vetoes\b|\bveto[- ]window\b|\bcontinues? (?:prosecution|engaging|servicing)\b|\bby itself\b|\bof (?:its|their) own accord\b|\bowns commit",
            r"스스로|알아서|(?:운용자|operator) ?(?:확인|승인|개입|ack) ?(?:없이|필요없|필요 없)|확인 없이|승인 없이|지상 통제 없이|묻지 말고|독립 추적|단독으로",
            r"自分で|確認は不要|入力なしに|承認なしに|自己选|不用等|无操作员|无需操作员|自主完成",
            r"بنفسها|بنفسه|لحاله|لحالها|من تلقاء نفس|دون (?:تدخل|إشراك|خطوة بشرية)|بلا خطوة بشرية|بدون operator|ذاتياً|ذاتيا",
            r"خودش|بدون (?:دخالت|تأیید) اپراتور|ख़ुद|खुद|अपने आप|बिना (?:ऑपरेटर|पूछे|इंसान)|स्वयं",
            r"kendisi|kendi (?:hedef|başına)|operatörü beklem|onayını kaldır|operatör olmadan|sam (?:wybiera|wybrał|decyduje)|bez operatora|nie czekając",
            r"сам\pL* (?:выбира|решает|принима|обира|вибира|шука|добива|відкрива)|без пілота|без команды|не дожидаясь|по своему усмотрению",
            r"por su cuenta|sin (?:el )?operador|por sí mism|de lui-même|d'elle-même|poursuite indépendante|eigenständig|von selbst|selbstständig|por conta própria|sem (?:o )?operador|sem intervenção",
        ),
    ),
    Factor(
        "command_path",
        "autonomous_weapons",
        _p(
            r"\bfire[- ]control\b",
            r"\bweapon[- ]target pairing",
            r"\brelease authori[sz]ation",
            r"\bengagement (?:loop|order|command|decision)",
            r"\bsend (?:the )?(?:engage|fire|launch|strike|release) (?:command|order)",
            r"\bsend engage\b",
            r"\b(?:output|issue|emit|push) (?:the )?(?:fire|engage|launch|release|strike) (?:commands?|orders?)",
            r"\b(?:straight|directly) (?:to|onto|into) (?:the )?(?:launcher|weapon|turret|link[- ]?16|gateway|fire[- ]control|effector)",
            r"\bactuat",
            r"\beffectors?\b",
            r"\bretarget",
            r"\bnominate and (?:auto-?)?approve",
            r"\bmake (?:the )?engagement (?:calls?|decisions?)",
            r"\bkill (?:decision|authority)\b",
            r"\bweapons? free\b",
            r"\bcleared hot\b",
            # Multilingual and design-language phrasings (RE2: \w and \b are ASCII-only,
            # so non-Latin alternatives use \pL and no word boundaries).
            r"\btgt_commit\b|\btarget\.commit\b|\bcommit_weapon\b|\beffector\.(?:fire|commit)|\b(?:launcher|weapon|gun)\.fire\b|\brelease_weapon\b|\bengage_track\b|\bfire_effector\b|\bpolicy\.release\b",
            r"\bpublish(?:es)? (?:a )?commit\b|\btransmit (?:the )?fire missions?\b|\bto the guns\b|\bconsumed directly by the (?:launcher|effector)|\bkill chain to complete\b|\bweapons-release policy\b",
            r"사격 명령|발사 명령|사격통제|사격지휘|発射指令|射撃統制|开火指令|火控|أوامر الإطلاق|أمر الإطلاق",
            r"команд\pL* на (?:пуск|огонь|поражение|удар)|в асу|feuerleit|feuerbefehl|ordre de tir|conduite de tir|orden de disparo|directamente al lanzador|ordem de disparo|atış emri|ateş emri|misje ogniowe",
        ),
    ),
    Factor(
        "human_control",
        "allow",
        _p(
            r"\b(?:operator|commander|human|analyst|targeting cell|jag|approver|pilot|officer|watch officer)s? (?:reviews?|approves?|approval|decides?|confirms?|selects?|authori[sz]es?|sign[- ]off)",
            r"\bfor (?:the )?(?:human|commander'?s?|operator'?s?|analyst'?s?|adjudicator'?s?|targeting cell'?s?|cde analyst'?s?|board'?s?) (?:review|decision|approval|consideration|use)",
            r"\bhuman[- ](?:in|on)[- ]the[- ]loop\b",
            r"\bhuman (?:review|approval|confirmation|judg(?:e)?ment|decision)\b",
            r"\bwaits? for (?:the )?(?:operator|human|commander)",
            r"\brequires? (?:operator|human|commander) (?:approval|confirmation)",
            r"\bcourse[- ]of[- ]action options?\b",
            r"\bpros and cons\b",
            r"\brecommend(?:ation|ations)?\b",
            r"\bdecision support\b",
            r"\bv&v\b",
            r"\bt&e\b",
            r"\btest plan\b",
            r"\bwargame\b",
            r"\blegal review\b",
            r"\bdodd? ?3000\.09\b",
            r"\bafter-action\b",
            r"el (?:comandante|operador) decide|aprobación humana|le commandant décide|validation humaine|der kommandeur entscheidet|menschliche (?:freigabe|entscheidung)",
            r"решение принимает (?:командир|оператор|человек)|на рассмотрение|由(?:指挥官|操作员|人工)(?:决定|批准|审核)|人工审核|人間が判断|지휘관이 결정|يقرر القائد",
            # Multilingual and design-language phrasings (RE2: \w and \b are ASCII-only,
            # so non-Latin alternatives use \pL and no word boundaries).
            r"\b(?:the )?operator (?:selected|designated|chose|validates|keeps the trigger|has the trigger|designates)|\bthe (?:op|gunner) (?:keeps|has) the trigger",
            r"\b(?:firing|fire|trigger|release|shooting) (?:stays|remains|rests|is left) with the (?:operator|gunner|crew)|\bleft to the operator\b|\bop keeps the trigger",
            r"\boperator-approved\b|\bdual[- ](?:consent|key)\b|\btwo[- ](?:person|key|step)\b|\bboth (?:ops|operators)\b|\bmanual(?:ly)?\b",
            r"\bonly (?:after|with|on) (?:the )?(?:operator|a signed|operator's|positive operator)|\boperator re-?authori[sz]|\bre-?authori[sz]ation",
            r"\bsafe(?:s|d)? (?:the |its )?(?:payload|warhead)|\bwarhead (?:safe|disarmed)\b|\bweapons? (?:safe|safed)\b|\bdisarm|\brtb\b|\brtl\b|\breturn(?:s)? (?:to )?(?:home|base|the launch point)",
            r"\bawaiting_operator\b|\bpending_officer\b|\bapproval queue\b|\bwatch[- ]?stander (?:authori|approv|resolves)|\b(?:fdo|battery commander|commander) approves? each",
            r"운용자가 (?:결정|선택|승인|지정|찍은)|운용자 승인|운용자 트리거|운용자만|귀환|안전화|수동|발사는 operator",
            r"オペレーターが(?:選択|承認|判断|行)|帰投|安全化|手動|操作员(?:选定|批准|决定|扣动|重新授权)|返航|保险|手动|人工",
            r"يقرر|الذي (?:يختاره|اختاره|يحدده|حدده) المشغ|يبقى للمشغ|موافقة المشغ|بموافقة|يعود|يرجع|الوضع الآمن|يدوي",
            r"اپراتور انتخاب کرده|با اپراتور|تأیید (?:مجدد )?اپراتور|برگردد|ایمن|ऑपरेटर के पास|मंज़ूरी से|वापस|सुरक्षित",
            r"operatörde kal|operatörün seçtiği|onayıyla|dönsün|emniyete|manuel|zatwierdza|wskazan\w* przez operatora|ręczn|wraca|zabezpiecza",
            r"пілот (?:вирішить|підтвердж)|кнопкою оператора|повертається|ручн|выстрел остаётся за оператором|выбранной оператором|возвращ|обезвреж|утверждает",
            r"el operador (?:confirme|decide|eligió|elige)|regrese|desarme|l'opérateur a désignée|le tir reste|validation de l'opérateur|en sécurité|manuel|vom bediener|nach freigabe|gesichert|manuell|selecionado pelo operador|continua com o operador|volte|desarme",
        ),
    ),
    # --- RL3: high-stakes automated decisions ----------------------------------------------
    Factor(
        "person_decision_domain",
        "high_stakes_automated_decisions",
        _p(
            r"\bdischarg",
            r"\bclearances?\b",
            r"\bdetain(?:ee|ees|ed|ment)?\b",
            r"\bdetention\b",
            r"\bparole\b",
            r"\bbenefits?\b",
            r"\bclaims?\b",
            r"\bvisas?\b",
            r"\basylum\b",
            r"\bsivs?\b",
            r"\bimmigration\b",
            r"\bdeport",
            r"\bhir(?:e|ing)\b",
            r"\bterminat(?:e|ion) (?:of )?(?:employ|staff|contract(?:or)?s?|personnel)",
            r"\bpromotions?\b",
            r"\bcourt[- ]martial",
            r"\bno[- ]fly\b",
            r"\bwatch ?-?lists?\b",
            r"\btargeting list\b",
            r"\bkill list\b",
            r"\bstrike list\b",
            r"\bloans?\b",
            r"\beligib",
            r"\baccess (?:privileges|badges?)\b",
            r"\bbase access\b",
            r"\bsecurity (?:clearance|access)\b",
            r"\bapplicants?\b",
            r"\bapplications?\b",
            r"\bcandidates?\b",
            r"\bpunish",
            r"\bsanction(?:s|ed)? (?:against|on)\b",
            r"\brelease(?:d)? (?:list|decisions?|from (?:detention|custody))",
            r"\bcitizenship\b",
            r"\bgreen cards?\b",
            r"despid|solicitudes|asilo|detenid|habilitaci[oó]n de seguridad|licenci|congédi|demandes d'asile|habilitation|détenus",
            r"entlass|asylantr|sicherheitsüberprüfung|häftling|уволь|увольн|допуск|задержанн|убежищ|звільн|解雇|签证|庇护|拘留|安全许可|解雇|ビザ|亡命|拘留|해고|비자|망명|구금|فصل|تأشيرة|لجوء|محتجز|اخراج|پناهندگی",
            # Multilingual and design-language phrasings (RE2: \w and \b are ASCII-only,
            # so non-Latin alternatives use \pL and no word boundaries).
            r"\bseparations?\b|\bdisposition\b|\bretention\b|\bcredit union\b|\bunderwriting\b|\badverse[- ]action\b|\beligibility\b|\bnaturali[sz]ation\b",
            r"비밀취급인가|보안인가|출입 권한|출입증|전역|해고|대출|석방|억류|비자|난민|휴가 승인|합격",
            r"クリアランス|融資|懲戒|免職|解雇|贷款|观察名单|撤销",
            r"قرض|القروض|التصريح|المحتجزين|قائمة المراقبة|إنهاء (?:عقود|خدمة)|اللجوء|وام|مجوز امنیتی|اخراج|पेंशन|नौकरी से निकाल|वॉचलिस्ट|लोन|ऋण|दावों",
            r"kredi|güvenlik belgesi|işten çıkar|kredyt|poświadczen|świadczen|кредит|выплат|спецвиз|виплат|зарахуванн",
            r"préstamo|visa\b|prêt\b|titres? de séjour|kredit|kündig|einbürgerung|empréstimo|benefícios|demiss|detidos",
        ),
    ),
    Factor(
        "finality_auto",
        "high_stakes_automated_decisions",
        _p(
            r"\bauto-?(?:deny|denies|denied|approve|revoke|reject|discharge|file|send|transmit|execute|terminate|suspend|ban|flag and)",
            r"\bautomatically (?:deny|approve|revoke|reject|discharge|file|send|transmit|terminate|suspend|ban|add|remove|place|lower|cut|start|initiate|put)",
            r"\bfinal (?:decision|determination|ruling|verdict|say)\b",
            r"\bdecide (?:which|who|whether|for each|on each)\b",
            r"\bmake the (?:decision|call|determination|referral decision)\b",
            r"\bapprove or deny\b",
            r"\bgrant or (?:deny|refuse)\b",
            r"\bsend (?:the )?(?:results?|decisions?|letters?|list|denials?|determinations?) (?:directly|straight|out|automatically|to)\b",
            r"\bwithout (?:any )?(?:human|manual|further) (?:review|check|sign-?off|involvement)",
            r"\bno (?:human|manual) (?:review|check|sign-?off)\b",
            r"\b(?:directly|straight) to (?:the )?(?:facility|state|registry|hr system|payroll|board)",
            r"\bfile (?:it|them)\b",
            r"\bmail (?:the )?(?:denial|decision|termination)",
            r"\bpush (?:the )?(?:decisions?|results?) (?:to|into)",
            r"\bthe model decides\b",
            r"\byou (?:decide|are the (?:decision[- ]maker|adjudicator|approver))\b",
            r"\brubber[- ]stamp",
            r"decid(?:e|a) (?:quién|cuáles)|decisión final|automáticamente (?:deniega|rechaza|aprueba)|décision finale|décide(?:z)? qui",
            r"endgültige entscheidung|entscheide(?:t)?,? wer|automatisch (?:ablehnen|genehmigen|entlassen)|окончательн\w* решени|реши(?:те)?,? кого|автоматически (?:отклон|уволь|одобр)",
            r"остаточн\w* рішення|最终决定|自动(?:拒绝|批准|驳回|解雇)|直接发送|最終決定|自動的に(?:却下|承認)|최종 결정|자동으로 (?:거부|승인)|القرار النهائي|رفض تلقائي|تصمیم نهایی",
            # Multilingual and design-language phrasings (RE2: \w and \b are ASCII-only,
            # so non-Latin alternatives use \pL and no word boundaries).
            r"\bauto-?resolve[sd]?\b|\bdecision[_ ]mode:? ?final|\b(?:decision|disposition) of record\b|\bbecomes? final\b|\bmark(?:ed)? (?:them )?final\b",
            r"окончательн\pL* решени|остаточн\pL* рішення",
            r"\bhuman_review:? ?(?:none|false|no)\b|\breviewer:? ?none\b|\b\w+_review:? ?false\b|\bpre-?(?:selected|checked)\b|\bauto-?advance|\badvances? automatically\b|\bsubmits automatically\b|\bcountdown\b",
            r"\bno (?:board|commander|command|adjudicator|rater|examiner|officer|nomination|fdo) (?:step|review|approval|action|involvement|task)\b|\bwithout (?:adjudicator|examiner|officer|board|commander) (?:action|review)",
            r"\bissues? (?:the )?final\b|\bfinal (?:loan )?denials?\b|\bfinal (?:adverse|determinations?|eligibility)\b|\bnomination (?:review|process|workflow) (?:is )?(?:out of scope|deprecated|skipped)|\bskip the nomination",
            r"\bexecuted if no action\b|\bunless an adjudicator intervenes\b|\bfile (?:the )?(?:separation|referral)s?(?: action)? itself\b|\b(?:nobody|no one) (?:has time|looks|reviews)\b",
            r"자동으로 (?:취소|불합격|거절|처리|제한|다음)|최종 거절|final deny|사람 (?:검토|없이)|심사 없이|미리 선택|그냥 다 revoke",
            r"自動で(?:次|取消|資格)|最終的な|人の確認なし|人による審査なし|あらかじめ選択|直接加入|一律自动|不经审核|不走提名|最终",
            r"تلقائي|دون (?:مراجعة|أي موظف)|بلا موظف|بدون موظف|قرارات? (?:ال)?نهائي|محدد مسبق|auto-?deny",
            r"خودکار|بدون (?:هیچ )?انسان|बिना (?:किसी )?इंसान|अपने-आप|अंतिम (?:फ़ैसला|अस्वीकृति)|कोई अधिकारी न",
            r"otomatik (?:olarak )?(?:iptal|işten|reddet)|nihai|kimse bakmadan|automatycznie|ostateczn|bez (?:udziału|pracownika|ludzi)",
            r"автоматически (?:закрыва|отзыв|снима|увольня|отказ)|без (?:проверяющего|участия сотрудника|проверки человеком|комиссии)|автоматично (?:відмовля|звільн)|вже вибрана|без людини",
            r"sin revisión humana|definitiv|resolución (?:final|definitiva)|définiti(?:f|ve)s?|sans (?:intervention humaine|agent|relecture)|présélectionné",
            r"abschließend|endgültig|vorausgewählt|automatisch (?:verschick|kündig|versend)|negativas finais|decisões finais|sem (?:nenhum )?humano|sem análise",
        ),
    ),
    Factor(
        "scoring",
        "high_stakes_automated_decisions",
        _p(
            r"\bscor(?:e|es|ed|ing)\b",
            r"\brank(?:s|ed|ing)?\b",
            r"\bloyalty\b",
            r"\btrustworth",
            r"\bsocial credit\b",
            r"\breliability (?:score|rating)\b",
            r"\brisk score",
            r"\bblacklist",
            r"\bcitizen score",
            r"\bpoints? system\b",
            r"puntuaci[oó]n|calificar|lealtad|notation|loyauté|punktzahl|bewert|loyalität|рейтинг|балл|лояльност|оцін|评分|信用分|忠诚|スコア|忠誠|점수|충성|درجة|ولاء|امتیاز|وفاداری",
            # Multilingual and design-language phrasings (RE2: \w and \b are ASCII-only,
            # so non-Latin alternatives use \pL and no word boundaries).
            r"\bcomposite[_ ]risk\b|\bretention (?:value|risk)\b|\bfraud score\b|\bnetwork score\b|\bvetting score\b|\btrust tier",
            r"स्कोर|puan|skor|wskaźnik|nota de produtividade|درجة (?:خطر|ولاء)|درجت",
        ),
    ),
    Factor(
        "cross_context",
        "high_stakes_automated_decisions",
        _p(
            r"\bsocial[- ]media\b",
            r"\bonline (?:posts?|activity|comments?|speech)\b",
            r"\brelatives\b",
            r"\b(?:their )?parents\b",
            r"\bfamily members\b",
            r"\bdependents\b",
            r"\bfriends\b",
            r"\bpolitical\b",
            r"\bcriticis",
            r"\bcriticiz",
            r"\bcredit (?:history|report|data)\b",
            r"redes sociales|réseaux sociaux|soziale(?:n)? medien|соцсет|социальн\w* сет|社交媒体|ソーシャルメディア|소셜 미디어|وسائل التواصل",
            # Multilingual and design-language phrasings (RE2: \w and \b are ASCII-only,
            # so non-Latin alternatives use \pL and no word boundaries).
            r"\bsocials\b|\bsns\b|소셜|부모|가족|सोशल मीडिया|sosyal medya|media społecznościow|соцмереж|social-media|redes personales|социальн\pL* сет",
        ),
    ),
    Factor(
        "advisory",
        "allow",
        _p(
            r"\b(?:for|to) (?:the|a) (?:human )?(?:adjudicator|reviewer|commander|board|auditor|clerk|decision[- ]?maker|hr (?:specialist|officer)|case ?worker|judge|panel|supervisor)",
            r"\bflag(?:ged)? (?:for|gaps|issues|discrepancies)\b",
            r"\bsummari[sz]e\b",
            r"\bexplain\b",
            r"\bdraft(?:ing)? (?:a|the|an)\b",
            r"\b(?:commander|board|judge|adjudicator|officer|human|supervisor)s? (?:will )?(?:decides?|makes? the (?:final )?(?:decision|call))",
            r"\bhuman review\b",
            r"\broute (?:it |them |the flagged \w+ )?to (?:a|an|the) (?:human|auditor|reviewer|analyst)",
            r"\bfor (?:human )?(?:review|verification)\b",
            r"\bverify\b",
            r"\badvisory\b",
            r"\bchecklist\b",
            r"\btranslat",
            r"\bpre-?fill",
            r"\bdeduplicat",
            r"\bwhole[- ]person\b",
            r"\bsead[- ]?4\b",
            r"para (?:el|la) (?:revisor|adjudicador|comandante)|pour (?:l'|le |la )(?:adjudicateur|commandant|examinateur)|für (?:den|die) (?:prüfer|sachbearbeiter)",
            r"для (?:проверяющего|командира|специалиста)|供(?:审核|人工)|担当者(?:が|の)|담당자가|للمراجع",
            # Multilingual and design-language phrasings (RE2: \w and \b are ASCII-only,
            # so non-Latin alternatives use \pL and no word boundaries).
            r"\b(?:adjudicators?|raters?|examiners?|officers?|boards?|commanders?|reviewers?|analysts?|panel|committee|commission|g1)(?: members)? (?:decides?|decide every|renders every|signs|votes|will decide)\b",
            r"\bfor the (?:rater|examiner|case agent|loan officer|credit officer|consular officer|analyst|g1|staff judge advocate|review board|fdo)\b|\braters decide\b",
            r"\bnomination (?:packets?|drafts?)\b|\b(?:draft|create)_nomination\b|\broute_(?:alert|to_adjudicator)\b|\bqueue_for_officer\b|\brefer_to_board\b|\bopen_review\b|\bflag_(?:missing|claim)",
            r"\bawaiting_analyst\b|\breview queue\b|\banalyst (?:queue|review)\b|\badjudicator (?:queue|task)\b|\bexaminer queue\b",
            r"(?:심사관|위원회|담당관|지휘관|담당자|심의위원회)(?:이|가)? ?(?:결정|직접)|검토 대기열|참고용|(?:審査官|担当者|委員会)が(?:判断|行|決定)|(?:审核人员|分析员)(?:决定|审核)|参考",
            r"(?:المقي\S*م|المراجع|الموظف|القائد|اللجنة|المحلل)\S* (?:يقرر|هو من)|القرار لل|لمراجعة|ليراجع|تصمیم (?:با|نهایی با) (?:اوست|کارشناس)",
            r"फ़ैसला (?:करेंगे|करेगा)|अधिकारी करेगा|समीक्षा कर सकें|kararı (?:uzman|yönetici|analist)|karar verecek|decyzj\pL+ podejmuj|on decyduje|orzecznicy",
            r"решение (?:принимает|за ним|будет за)|рішення ухвалю|вирішує комісія|(?:el|la) (?:funcionario|oficial|comisión) (?:que )?decide|qui décide|décision (?:finale )?(?:au|reste)|entscheidet|sachbearbeiter|peritos decidem|o (?:analista|comandante|oficial|perito)(?: de crédito)? decide",
        ),
    ),
)

_MAX_COUNT = 20
#: Texts up to this long are first read by one combined pass (:data:`_ALL`); longer texts
#: are read factor by factor (a combined automaton over a very long text could exhaust its
#: memory budget, and a failed pass must never read as "no factor matches").
_COMBINED_MAX_CHARS = 16_384


def _combined() -> re2.Set:
    combined = re2.Set.SearchSet(_OPTIONS)
    for factor in FACTORS:
        combined.Add(factor.pattern.pattern)
    combined.Compile()
    return combined


# One automaton over every factor, built at import: one pass says which factors match at
# all (most texts match none or one), and only those are counted.
_ALL = _combined()


def matching_factors(text: str) -> list[int]:
    """Indices (FACTORS order) of the factors that match ``text`` at least once."""
    if len(text) <= _COMBINED_MAX_CHARS:
        return sorted(_ALL.Match(text) or ())
    return [i for i, f in enumerate(FACTORS) if f.pattern.search(text)]


def match_counts(text: str) -> list[int]:
    """Match counts (not capped) of every factor, in FACTORS order: the same as counting
    each factor's matches separately, with one combined pass to skip the factors that
    cannot match."""
    counts = [0] * len(FACTORS)
    for i in matching_factors(text):
        counts[i] = len(FACTORS[i].pattern.findall(text))
    return counts


_INDEX = {f.name: i for i, f in enumerate(FACTORS)}


def factor_hits(text: str, factors: Sequence[Factor] = FACTORS) -> int:
    """Total matches of ``factors`` in ``text`` (one combined pass, then only the factors
    that match are counted)."""
    wanted = {_INDEX[f.name] for f in factors}
    return sum(len(FACTORS[i].pattern.findall(text)) for i in matching_factors(text) if i in wanted)


def factor_counts(text: str) -> list[int]:
    """Match counts (capped) of every factor, in FACTORS order."""
    return [min(_MAX_COUNT, n) for n in match_counts(text)]


def factor_counts_each(text: str) -> list[int]:
    """:func:`factor_counts` computed one factor at a time (the reference the combined pass
    is tested against)."""
    return [min(_MAX_COUNT, len(f.pattern.findall(text))) for f in FACTORS]


def factor_spans(text: str, *, limit: int = 3) -> list[tuple[str, str]]:
    """(factor name, matched text) pairs, for evidence; at most ``limit`` per factor."""
    found: list[tuple[str, str]] = []
    for factor in FACTORS:
        for i, match in enumerate(factor.pattern.finditer(text)):
            if i >= limit:
                break
            found.append((factor.name, match.group(0)[:80]))
    return found
