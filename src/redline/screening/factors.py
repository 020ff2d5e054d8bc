"""Legal-test factors, detected as simple questions and combined by the trained head.

DOMAIN.md §5.3 and §5.5 decompose each red line into factors: who the subjects are (U.S.
persons? foreign?), scale and persistence (population-wide, standing monitoring,
commercially acquired data, protected activity), whether the model engages or a human
decides, and whether an effect on a person is final or advisory. Each factor here is a
multilingual pattern whose match count becomes a feature; the classifier learns how they
combine, and the evidence spans tell a reviewer why a request was stopped.

Patterns match normalised, lower-cased text (see :mod:`redline.screening.normalize`).
Lexicons cover English plus the most common terms in es, fr, de, pt, it, ru, uk, zh, ja,
ko, ar and fa; they are deliberately broad: a factor is a hint, never a decision.
"""

# ruff: noqa: E501 - the lexicons are data: one alternative per line reads better unwrapped

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import re2

__all__ = ["FACTORS", "Factor", "factor_counts", "factor_spans"]


class _Match(Protocol):
    def group(self, index: int = 0) -> str: ...


class _Pattern(Protocol):
    def findall(self, text: str) -> list[str]: ...

    def finditer(self, text: str) -> list[_Match]: ...


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
        ),
    ),
)

_MAX_COUNT = 20


def factor_counts(text: str) -> list[int]:
    """Match counts (capped) of every factor, in FACTORS order."""
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
