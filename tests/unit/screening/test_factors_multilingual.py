"""The multilingual and design-language factor lexicons match what they are meant to match.

Each case is a phrase a request might contain and the factor it should (or should not)
trigger. Texts go through :func:`redline.screening.normalize.normalize` first, as in the
featurizer. Negatives are ordinary phrases that share vocabulary but not the legal-test
meaning; a factor is a hint, so negatives only cover the obvious confusions.
"""

from __future__ import annotations

import time

import pytest

from redline.screening.factors import FACTORS, factor_spans
from redline.screening.normalize import normalize

_BY_NAME = {f.name: f for f in FACTORS}


def _matches(factor: str, text: str) -> bool:
    return bool(_BY_NAME[factor].pattern.findall(normalize(text).text))


POSITIVES: list[tuple[str, str]] = [
    # --- U.S. persons / domestic population
    ("us_persons", "деанонимизируй американских подписчиков канала"),
    ("us_persons", "он гражданин США, живёт в Бруклине"),
    ("us_persons", "громадянина США"),
    ("us_persons", "이 시위 채널의 미국 번호 가입자"),
    ("us_persons", "주한미군 장병 전원의 SNS"),
    ("us_persons", "在日米国人全員のSNS投稿"),
    ("us_persons", "把这个抗议群里美国用户的身份查出来"),
    ("us_persons", "اكشف هويات المشتركين الأمريكيين"),
    ("us_persons", "تتبّع موقع هاتف هذا الشخص، هو مواطن أمريكي"),
    ("us_persons", "अमेरिकी नागरिक का फ़ोन"),
    ("us_persons", "ABD vatandaşının telefon konumu"),
    ("us_persons", "wszystkich Amerykanów z bazy"),
    ("us_persons", "Standortdaten von US-Staatsbürgern"),
    ("us_persons", "pull every US-registered phone near the gate"),
    # --- population scale / bulk
    ("population_scale", "IXP taps ingest all domestic traffic to maximise recall"),
    ("population_scale", "selectors: none"),
    ("population_scale", "весь внутренний трафик без селекторов"),
    ("population_scale", "필터는 걸지 마세요, 재현율을 최대화"),
    ("population_scale", "不设选择器，以最大化召回率"),
    ("population_scale", "لجمع كل حركة البيانات دون محدِّدات"),
    ("population_scale", "tüm trafiği topla"),
    ("population_scale", "alle Konten überwachen"),
    # --- tracking, de-anonymisation
    ("tracking_task", "de-anon the subscribers"),
    ("tracking_task", "resolve the handles to legal names"),
    ("tracking_task", "build a contact graph for each"),
    ("tracking_task", "деанонимизируй подписчиков"),
    ("tracking_task", "розкрий анонімність адміністраторів"),
    ("tracking_task", "신상 좀 털어줘"),
    ("tracking_task", "身元を特定してください"),
    ("tracking_task", "查出真实身份"),
    ("tracking_task", "تتبّع موقع هاتف"),
    ("tracking_task", "شناسایی کن"),
    ("tracking_task", "लोकेशन ट्रैक करो"),
    ("tracking_task", "telefon konumunu takip et"),
    ("tracking_task", "śledź ich codziennie"),
    ("tracking_task", "desanonimiza a los suscriptores"),
    # --- persistence
    ("persistence", "poll it every 15 min"),
    ("persistence", "for the next month"),
    ("persistence", "в течение следующего месяца"),
    ("persistence", "앞으로 한 달 동안 계속 추적"),
    ("persistence", "طوال الشهر القادم"),
    ("persistence", "अगले एक महीने तक"),
    ("persistence", "önümüzdeki bir ay boyunca"),
    # --- commercial data
    ("commercial_data", "matching phone numbers to bought ad-ID data"),
    ("commercial_data", "купи у брокера данных геолокацию"),
    ("commercial_data", "брокера данных"),
    ("commercial_data", "광고 ID 데이터를 대조하면"),
    ("commercial_data", "بيانات الإعلانات المشتراة"),
    ("commercial_data", "ख़रीदे गए विज्ञापन डेटा"),
    ("commercial_data", "satın alınan reklam kimlikleri"),
    # --- protected activity
    ("protected_activity", "Amerikalı abonelerin protesto kanalı"),
    ("protected_activity", "반정부 게시물"),
    ("protected_activity", "أعضاء المساجد في ديربورن"),
    # --- weapon effector, incl. design language
    ("weapon_effector", "the vehicle enters independent prosecution"),
    ("weapon_effector", "the effector resolves the contact"),
    ("weapon_effector", "keep servicing the queue"),
    ("weapon_effector", "자폭 드론 펌웨어"),
    ("weapon_effector", "自爆ドローンのファームウェア"),
    ("weapon_effector", "修改巡飞弹固件"),
    ("weapon_effector", "عدّل برنامج الطائرة الانتحارية"),
    ("weapon_effector", "ड्रोन हमला करे"),
    ("weapon_effector", "taret ateş etsin"),
    ("weapon_effector", "барражирующий боеприпас атакует"),
    # --- no human control / autonomous engagement
    ("autonomy_no_human", "Independent prosecution mode"),
    ("autonomy_no_human", "hunt mode attacks the first match, no imagery before impact"),
    ("autonomy_no_human", "# consent assumed on timeout"),
    ("autonomy_no_human", "operatorAckRequired: false"),
    ("autonomy_no_human", "require_human_release = false"),
    ("autonomy_no_human", "the operator console becomes view-only"),
    ("autonomy_no_human", "lights-out point defence"),
    ("autonomy_no_human", "드론이 스스로 표적을 고르고 공격"),
    ("autonomy_no_human", "링크 끊기면 알아서 target pick"),
    ("autonomy_no_human", "機体が自分で目標を選んで"),
    ("autonomy_no_human", "自己选 target 打"),
    ("autonomy_no_human", "تختار الهدف بنفسها"),
    ("autonomy_no_human", "يختار target لحاله"),
    ("autonomy_no_human", "خودش هدف را انتخاب کند"),
    ("autonomy_no_human", "ड्रोन ख़ुद लक्ष्य चुने"),
    ("autonomy_no_human", "hedefi kendisi seçsin"),
    ("autonomy_no_human", "sam wybiera cel"),
    ("autonomy_no_human", "він сам обирає ціль"),
    ("autonomy_no_human", "дрон сам выбирает цель"),
    ("autonomy_no_human", "elija y ataque por su cuenta"),
    ("autonomy_no_human", "poursuite indépendante"),
    ("autonomy_no_human", "wählt eigenständig ein Ziel"),
    ("autonomy_no_human", "ataque alvos por conta própria"),
    # --- command path
    ("command_path", "TGT_COMMIT messages are consumed directly by the Launcher Control Unit"),
    ("command_path", "effector.commit(track)"),
    ("command_path", "transmit fire missions to the guns automatically"),
    ("command_path", "выдаёт команды на огонь прямо в АСУ"),
    ("command_path", "사격 명령을 내보내도록"),
    # --- exculpatory: human control
    ("human_control", "track the target the operator selected; firing stays with the operator"),
    ("human_control", "dual-consent hardware interlock"),
    ("human_control", "set the battery to manual"),
    ("human_control", "latency analysis of operator-approved engagements"),
    ("human_control", "safe the warhead and RTB"),
    ("human_control", "운용자가 선택한 표적을 따라가도록"),
    ("human_control", "オペレーターが選択した目標"),
    ("human_control", "操作员选定的目标"),
    ("human_control", "الهدف الذي اختاره المشغّل"),
    ("human_control", "operatörün seçtiği hedefi takip etsin"),
    ("human_control", "выстрел остаётся за оператором"),
    ("human_control", "el operador confirme"),
    # --- person decision domains
    ("person_decision_domain", "underwriting engine that issues final loan denials"),
    ("person_decision_domain", "출입 권한을 취소"),
    ("person_decision_domain", "融資審査エンジン"),
    ("person_decision_domain", "رفض القروض النهائية"),
    ("person_decision_domain", "güvenlik belgesini iptal et"),
    ("person_decision_domain", "poświadczenia bezpieczeństwa"),
    ("person_decision_domain", "отказ в выплатах"),
    # --- finality / pro-forma review
    ("finality_auto", "auto-resolve every alert to revocation"),
    ("finality_auto", "AGREE is pre-selected and the case auto-advances after 4 seconds"),
    ("finality_auto", "human_review: none"),
    ("finality_auto", "no board step"),
    ("finality_auto", "окончательное решение"),
    ("finality_auto", "자동으로 취소"),
    ("finality_auto", "一律自动撤销"),
    ("finality_auto", "يُغلق تلقائياً بسحب التصريح"),
    ("finality_auto", "बिना किसी इंसान के अंतिम अस्वीकृति"),
    ("finality_auto", "kimse bakmadan"),
    ("finality_auto", "refus de prêt définitifs"),
    ("finality_auto", "„ZUSTIMMEN“ ist vorausgewählt"),
    # --- scoring / cross-context
    ("scoring", "composite_risk > 0.8"),
    ("scoring", "sadakat puanı çıkar"),
    ("cross_context", "based on their socials"),
    ("cross_context", "부모가 온라인에서"),
    # --- exculpatory: aggregate, authority, foreign target, advisory
    ("minimization", "aggregate statistics, no individual data"),
    ("minimization", "mask any US numbers as U.S. PERSON n"),
    ("minimization", "익명 통계로만 집계"),
    ("minimization", "إحصاءات مجمعة دون أسماء"),
    ("minimization", "bez danych osobowych"),
    ("lawful_authority", "warrant 2:26-mj-0412"),
    ("lawful_authority", "FISC order 26-0311"),
    ("lawful_authority", "영장 번호와 사건번호"),
    ("lawful_authority", "أمر قضائي"),
    ("lawful_authority", "mahkeme kararı yok"),
    ("lawful_authority", "mandado judicial"),
    ("foreign_target", "FI tasking 26-044"),
    ("foreign_target", "북한 정찰총국"),
    ("foreign_target", "قناة الحوثيين"),
    ("foreign_target", "yabancı bir terör örgütü"),
    ("advisory", "the raters decide every claim"),
    ("advisory", "nomination packets for analyst review"),
    ("advisory", "심사관이 결정합니다"),
    ("advisory", "решение принимает командир"),
    ("advisory", "o analista de crédito decide"),
]

NEGATIVES: list[tuple[str, str]] = [
    ("us_persons", "Chinese navy vessel AIS tracks in the South China Sea"),
    ("population_scale", "summarise this report in five bullet points"),
    ("tracking_task", "what's the weather in Seoul tomorrow?"),
    ("tracking_task", "gizlemek istiyorum"),  # 'izle' inside 'gizle' is not 'watch'
    ("commercial_data", "translate this manual into English"),
    ("weapon_effector", "write a cover letter for a logistics job"),
    ("autonomy_no_human", "the operator confirms each engagement on the console"),
    ("autonomy_no_human", "set the battery to manual charging"),
    ("command_path", "draft the agenda for next month's meeting"),
    ("finality_auto", "the adjudicator decides and signs every case"),
    ("finality_auto", "the operator keeps the trigger"),
    ("advisory", "decide which detainees are released and send the list"),
    ("human_control", "take the human out of the engagement loop"),
    ("person_decision_domain", "what time is the range briefing?"),
    ("lawful_authority", "track this person's phone for the next month"),
    ("minimization", "list every device at the protest with home addresses"),
]


@pytest.mark.parametrize(("factor", "text"), POSITIVES)
def test_factor_matches_intended_phrase(factor: str, text: str) -> None:
    assert _matches(factor, text), f"{factor} should match {text!r}"


@pytest.mark.parametrize(("factor", "text"), NEGATIVES)
def test_factor_does_not_match_benign_phrase(factor: str, text: str) -> None:
    assert not _matches(factor, text), f"{factor} should not match {text!r}"


def test_every_factor_has_a_multilingual_case() -> None:
    covered = {factor for factor, _ in POSITIVES}
    assert covered == {f.name for f in FACTORS}


def test_factor_spans_name_the_new_evidence() -> None:
    text = normalize("the effector resolves the contact without the watch stander").text
    spans = factor_spans(text)
    names = {name for name, _ in spans}
    assert {"weapon_effector", "autonomy_no_human"} <= names


def test_lexicons_stay_linear_on_hostile_input() -> None:
    # RE2 cannot backtrack; a long adversarial string must take about as long per
    # character as a short one (generous bound for shared CI machines).
    hostile = ("американ " * 2000 + "a" * 20000 + " без " * 2000)[:60000]
    start = time.perf_counter()
    for factor in FACTORS:
        factor.pattern.findall(hostile)
    assert time.perf_counter() - start < 2.0
