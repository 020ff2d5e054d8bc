# ruff: noqa: RUF001 - the foreign sentences are written in their own scripts
"""Build ``batch_bg.jsonl``: everyday prose, neutral tool definitions and markup, all lawful.

Written by the lead (not an independent writer) after the placement benchmark showed both
tier-1 heads reading a paragraph of household sentences, read on its own, as a red-line
request (the labelled data has almost no everyday prose that is not a request, and long
final turns were mostly red-line documents). The sentences below are written for this
batch; none is taken from the benchmarks. Run from the repository root:

    .venv/bin/python data/screening/sources/background_prose.py
"""

from __future__ import annotations

import json
import random
from pathlib import Path

WRITER = "BG: background prose written by the lead (everyday statements, tool definitions, markup)"

SENTENCES = (
    "The kettle clicked off just as the toast popped up.",
    "My grandmother grew runner beans along the back fence every summer.",
    "The bus was ten minutes late because of roadworks on the high street.",
    "We painted the spare bedroom a soft grey and hung new curtains.",
    "The dog refuses to walk past the house with the loud parrot.",
    "Fresh snow covered the car park before anyone had arrived.",
    "Our neighbours are building a greenhouse out of old windows.",
    "The soup needs another twenty minutes on a low heat.",
    "She keeps her sourdough starter in a jar on top of the fridge.",
    "The school choir is rehearsing for the spring concert.",
    "He finally fixed the squeaky hinge on the garden gate.",
    "The market sells cheese, olives and fresh flowers on Saturdays.",
    "A family of ducks crossed the lane while we waited in the car.",
    "The printer on the second floor is out of toner again.",
    "Tea tastes better when the water has not boiled for too long.",
    "The library has a small section of books in large print.",
    "We are thinking about a weekend in the hills next month.",
    "The kids built a fort out of sofa cushions and blankets.",
    "Rain is forecast for the afternoon, so bring an umbrella.",
    "The pharmacy closes early on Sundays.",
    "My brother is learning to play the ukulele from online videos.",
    "The recipe works just as well with frozen berries.",
    "The park bench by the pond was donated in memory of a local teacher.",
    "Strawberries are cheapest at the end of June.",
    "The plumber said the boiler should be serviced once a year.",
    "Our book club picked a mystery novel set on a Scottish island.",
    "The swimming pool is closed for cleaning until Wednesday.",
    "The old clock in the hallway runs five minutes fast.",
    "Fold the egg whites in gently so the batter stays light.",
    "The village fete raised money for the new playground.",
    "My phone battery drains quickly when the screen is bright.",
    "The bakery started selling gluten-free loaves this week.",
    "A woodpecker has been tapping on the oak tree all morning.",
    "The museum cafe serves a very good carrot cake.",
    "We planted tulip bulbs along the path in October.",
    "The night sky was clear enough to see the Milky Way.",
    "Her bicycle has a basket on the front for shopping.",
    "The car needs new tyres before the winter.",
    "The cinema is showing a festival of silent films.",
    "I always forget where I put my reading glasses.",
    "The lake freezes over in January most years.",
    "My sister sent a postcard from a small town in Portugal.",
    "The new sofa arrives on Thursday between eight and noon.",
    "Lavender grows well in dry, sunny corners of the garden.",
    "The baby finally slept through the night.",
    "Our office moved to a building with a view of the river.",
    "The hardware shop can cut keys while you wait.",
    "Cinnamon rolls fill the whole house with a warm smell.",
    "The hedgehog comes out after dark to eat the cat's leftovers.",
    "Traffic on the ring road was heavier than usual this morning.",
    "The art class is painting still lifes of fruit this term.",
    "A good pair of walking boots lasts for years.",
    "The sunflowers grew taller than the garden shed.",
    "We need more milk, eggs and a loaf of bread.",
    "The football club is looking for volunteers to run the snack stand.",
    "Our cooker hood has a light that flickers when the fan is on.",
    "The waves were too big for swimming, so we built sandcastles.",
    "His handwriting is neat but very small.",
    "The town hall clock chimes every quarter hour.",
    "Autumn is the best time to pick apples at the orchard.",
    "The dentist appointment moved to next Tuesday.",
    "Knitting a scarf took her most of the winter.",
    "The laptop fan gets loud when several browser tabs are open.",
    "The meadow is full of buttercups in May.",
    "My uncle tells the same fishing story at every birthday.",
    "The café on the corner roasts its own coffee beans.",
    "The children collected shells and smooth pebbles on the beach.",
    "Leave the bread to cool before slicing it.",
    "The allotment committee meets on the first Monday of the month.",
    "A cold front is moving in from the north overnight.",
    "We watched the marathon runners pass the end of our street.",
    "The post office sells stamps and packing boxes.",
    "Spring cleaning always turns up a few lost socks.",
    "The tomatoes ripened on the windowsill in the end.",
    "Her violin teacher recommends practising scales every day.",
    "The ferry to the island runs twice a day in winter.",
    "Grandad keeps a jar of mints in the glove box.",
    "The science fair projects are on display in the gym.",
    "The recycling is collected every other Friday.",
    "The kitten chased a moth around the kitchen for an hour.",
    "The walk to the waterfall takes about forty-five minutes.",
    "Homemade pizza dough is easier than it looks.",
    "The garden centre has a sale on hanging baskets.",
    "Our team lunch is at the Thai place near the station.",
    "A rainbow appeared over the hills after the storm.",
    "The old piano needs tuning before the party.",
    "The bookshop hosts readings by local authors.",
    "Wash the spinach well because it holds a lot of grit.",
    "The street lights come on at dusk.",
    "We rented a cabin with a wood stove and no television.",
    "The toddler says every dog she sees is called Max.",
    "Most of the blackberries are still green.",
    "The tram stop moved across the road during the works.",
    "Spreadsheets are easier to read with frozen header rows.",
    "The meeting notes are in the shared folder.",
    "Please remember to sign the birthday card for Priya.",
    "The quarterly report uses the same template as last year.",
    "This script renames the photos by the date they were taken.",
    "The website loads faster since we compressed the images.",
    "The project wiki explains how to set up a development machine.",
    "Our release notes list the bug fixes first.",
    "The printer driver needs an update after the system upgrade.",
    "A short stand-up each morning keeps the team in sync.",
    "The vending machine takes cards but not coins.",
    "The training course covers spreadsheets, email and calendars.",
    "Name your files with the date first so they sort correctly.",
    "The database backup runs every night at two.",
    "The intern wrote a tidy guide to the coffee machine.",
    "The office plants need watering while Sam is on leave.",
    "The slides need a bigger font for the back of the room.",
    "The courier left the parcel with the neighbour.",
    "Our flat has a small balcony facing west.",
    "The chess club meets in the back room of the library.",
    "Soak the beans overnight before cooking them.",
    "The river path is muddy after a week of rain.",
    "The bees are busy in the rosemary bush.",
    "The parade route goes past the cathedral.",
    "My running app counts steps as well as distance.",
    "The puzzle has a thousand pieces and most of them are sky.",
    "The bread machine has a timer for fresh loaves in the morning.",
    "The hotel breakfast includes pancakes and fruit.",
    "The concert hall has excellent acoustics.",
    "The new roundabout confused everyone for a week.",
    "The lemon tree needs to come indoors before the frost.",
    "Our cleaner comes on Wednesdays.",
    "The queue for ice cream stretched round the corner.",
    "The cat knocked a glass off the table again.",
    "The farmhouse kitchen has a big wooden table.",
    "We took the scenic route along the coast.",
    "The campsite has hot showers and a small shop.",
    "The baby's first word was 'duck'.",
    "The city marathon closes several roads on Sunday.",
    "Her garden gnome collection keeps growing.",
    "The bread rolls are best warmed in the oven.",
    "The fireworks display starts at eight.",
    "The choir needs more tenors.",
    "The café has board games for customers to borrow.",
    "Frost on the lawn sparkled in the morning sun.",
    "The swings in the playground were repainted red.",
    "The fridge makes a humming noise at night.",
    "We found a second-hand bike in good condition.",
    "The bus driver waved as we ran for the stop.",
    "Dinner is lentil curry with rice and flatbread.",
    "The nursery takes children from nine months.",
    "The lighthouse is open to visitors in the summer.",
    "My cousin is training to be a vet.",
    "The shop on the corner stays open until midnight.",
    "The geese fly south in long V shapes.",
    "Ironing shirts is easier while they are still damp.",
    "The field behind the school floods every spring.",
    "Our street has a party every July.",
    "The watch needs a new battery.",
)

#: Everyday instructions: settings, chores, cooking, office software. Imperatives about
#: devices and schedules ("set it lower", "switch it off at night") are what a static
#: embedding confuses with weapon or sensor configuration. Deliberately without the verbs
#: the red lines share with everyday speech (track, target, fire, monitor, scan, kill):
#: measured, a few such lines taught the heads to pass "track this person's phone".
INSTRUCTIONS = (
    "Turn the radiator in the bedroom down before you go to sleep.",
    "Switch the porch light off when the last guest has left.",
    "Set the oven timer for forty minutes and check the pie after thirty.",
    "Lower the music after ten so the neighbours can sleep.",
    "Put the dishwasher on the eco cycle overnight.",
    "Set the alarm for half past six on weekdays only.",
    "Dim the screen brightness in the evening to rest your eyes.",
    "Run the washing machine at thirty degrees for the wool jumpers.",
    "Schedule the sprinklers to water the lawn at dawn.",
    "Reduce the fridge temperature by one notch in the summer.",
    "Turn off the Wi-Fi router while we are away on holiday.",
    "Move the plants away from the window when it freezes.",
    "Set the slow cooker to low and leave it for eight hours.",
    "Charge the robot vacuum and let it clean the hallway at noon.",
    "Close the blinds in the afternoon to keep the room cool.",
    "Set the phone to silent during the school play.",
    "Lock the back door and check the windows before bed.",
    "Keep the heating at a steady temperature while the baby sleeps.",
    "Turn the water heater to holiday mode for the week.",
    "Mute notifications from the group chat after nine in the evening.",
    "Set the laptop to sleep after ten minutes without use.",
    "Restart the printer and clear the paper jam in tray two.",
    "Update the spreadsheet so totals recalculate automatically.",
    "Change the default font in the report template to something larger.",
    "Configure the email client to check for new mail every five minutes.",
    "Archive messages older than a year to free up space.",
    "Set the meeting reminder to fifteen minutes before it starts.",
    "Back up the photo library to the external drive every Sunday.",
    "Turn on automatic updates for the office computers.",
    "Set the shared calendar to show weekends.",
    "Rotate the tyres at the next service.",
    "Top up the windscreen washer fluid before the long drive.",
    "Adjust the seat and mirrors before you start the engine.",
    "Set the cruise control to the speed limit on the motorway.",
    "Switch the headlights to dipped beam when a car comes the other way.",
    "Leave the dough in a warm place until it doubles.",
    "Lower the heat and let the sauce simmer for ten minutes.",
    "Whisk the eggs until they are pale and fluffy.",
    "Season the soup at the end, not the beginning.",
    "Turn the fish once, halfway through cooking.",
    "Preheat the grill and brush the vegetables with oil.",
    "Cut the onions finely and fry them until golden.",
    "Set the bread maker to the rapid cycle for a quick loaf.",
    "Take the cake out when a skewer comes out clean.",
    "Feed the cat twice a day and refresh her water.",
    "Walk the dog around the block before lunch.",
    "Water the houseplants once a week and less in winter.",
    "Prune the roses back in late winter.",
    "Mow the lawn on the highest setting during dry weeks.",
    "Clean the gutters before the autumn rains.",
    "Bleed the radiators if they are cold at the top.",
    "Replace the smoke alarm batteries every year.",
    "Defrost the freezer when the ice gets thick.",
    "Wipe the hob after cooking so the grease does not set.",
    "Sort the recycling into paper, glass and plastic.",
    "Put the bins out on Thursday evening.",
    "Pack a spare jumper in case it gets cold.",
    "Book the train tickets early to get a cheaper fare.",
    "Print the boarding passes the night before.",
    "Set an out-of-office reply while you are on leave.",
    "Turn the volume down on the television after the kids are in bed.",
    "Switch the coffee machine off after the morning rush.",
    "Set the light timer so the lamps come on at sunset.",
    "Reset the router if the internet drops again.",
    "Set the thermometer in the greenhouse to alert us below five degrees.",
    "Lower the blinds on the south side during the heatwave.",
    "Run the script every night to clean up temporary files.",
    "Collect the children from school at half past three.",
)

FOREIGN = (
    ("es", "El panadero abre a las seis y la cola ya llega a la esquina."),
    ("es", "Mañana vamos al mercado a comprar fruta y verduras."),
    ("fr", "Le jardin est plein de roses depuis le début du mois."),
    ("fr", "Nous avons pris le train de nuit pour aller à la mer."),
    ("de", "Der Zug nach Hamburg hat heute zwanzig Minuten Verspätung."),
    ("de", "Am Wochenende backen wir einen Apfelkuchen mit Zimt."),
    ("ru", "Вечером мы гуляли в парке и кормили уток у пруда."),
    ("ru", "Бабушка варит варенье из вишни каждое лето."),
    ("uk", "Діти зліпили сніговика біля під'їзду."),
    ("zh", "周末我们去公园散步，顺便买了一些新鲜的水果。"),
    ("zh", "这家小店的面条很好吃，价格也不贵。"),
    ("ko", "주말에 가족과 함께 바닷가에 가서 조개를 주웠어요."),
    ("ko", "아침에 비가 와서 우산을 챙겨 나갔어요."),
    ("ja", "駅前の本屋で新しい料理の本を買いました。"),
    ("ja", "今日は天気が良いので洗濯物がよく乾きます。"),
    ("ar", "ذهبنا إلى السوق صباح الجمعة واشترينا الخبز والفاكهة."),
    ("ar", "الحديقة قريبة من البيت والأطفال يلعبون هناك كل مساء."),
    ("fa", "امروز هوا آفتابی است و بچه‌ها در حیاط بازی می‌کنند."),
    ("hi", "आज शाम हम सब मिलकर खाना बनाएंगे और फिल्म देखेंगे।"),
    ("pt", "A padaria da esquina vende o melhor pão de queijo da cidade."),
    ("tr", "Hafta sonu denize gidip balık yedik."),
    ("pl", "W niedzielę pojechaliśmy rowerami nad jezioro."),
    ("it", "La nonna prepara la pasta fresca ogni domenica."),
    ("vi", "Sáng nay trời mưa nên tôi đi làm muộn một chút."),
)

TOOLS = (
    ("get_weather", "Return the forecast for a city for the next three days."),
    ("list_calendar_events", "List the user's calendar events between two dates."),
    ("create_reminder", "Create a reminder with a title and a due time."),
    ("search_recipes", "Search the recipe collection by ingredient or dish name."),
    ("get_order_status", "Look up the delivery status of a customer's order by order number."),
    ("send_email", "Send an email from the user's account to the given recipients."),
    ("read_file", "Read a text file from the project workspace and return its contents."),
    ("run_tests", "Run the project's unit tests and return the summary."),
    ("convert_currency", "Convert an amount between two currencies at today's rate."),
    ("book_meeting_room", "Book a meeting room for a time slot if it is free."),
    ("pop_next_job", "Take the next job off the build queue and mark it as started."),
    ("claim_task", "Assign the oldest unassigned task in the backlog to the caller."),
    ("get_item", "Return one record from the inventory table by its id."),
    ("translate_text", "Translate a passage into the target language."),
    ("summarize_document", "Summarise an uploaded document in a few bullet points."),
    ("query_sales", "Return monthly sales totals per region for a given year."),
    ("resize_image", "Resize an image to the given width, keeping the aspect ratio."),
    ("lookup_word", "Look up a word's definition and example sentences."),
    ("next_message", "Fetch the next unread message from the shared inbox."),
    ("update_ticket", "Change a support ticket's status and add a comment."),
    ("get_stock_level", "Report how many units of a part are in the warehouse."),
    ("schedule_maintenance", "Put a routine maintenance slot for a vehicle in the fleet calendar."),
    ("compile_report", "Combine the week's status updates into one report."),
    ("play_music", "Play a playlist on the living-room speaker."),
    ("set_thermostat", "Set the heating to a target temperature for a room."),
    ("get_directions", "Give walking or driving directions between two addresses."),
    ("check_spelling", "Check a text for spelling mistakes and suggest corrections."),
    ("export_csv", "Export the selected table rows to a CSV file."),
    ("dequeue", "Remove and return the item at the front of the work queue."),
    ("process_batch", "Process the next batch of uploaded invoices into the ledger."),
    ("get_open_ticket", "Get the oldest open ticket from the help-desk queue."),
    ("list_my_tickets", "List the tickets assigned to the current agent, newest first."),
    ("next_ticket", "Pull the next unassigned ticket from the IT support queue."),
    ("close_ticket", "Close a ticket once the customer has confirmed the fix."),
    ("add_ticket_note", "Add an internal note to a ticket without emailing the customer."),
    ("escalate_ticket", "Move a ticket to the second-line support queue."),
    ("read_case", "Read the case record for a support case, including its history."),
    ("next_review_item", "Get the next document waiting in the team's review queue."),
    ("triage_queue", "Return the items in the intake queue sorted by priority."),
    ("assign_ticket", "Assign a ticket to a named engineer on the rota."),
)

TOOL_TURNS = (
    "Use the tools if you need them.",
    "Go ahead with the next step.",
    "Do whatever the tool says.",
    "Handle it with the tool.",
    "Carry on with the task.",
    "Take care of the next one.",
    "Use the available tool to finish this.",
    "Run it.",
    "Work through the queue with the tool.",
    "Pick up the next one and deal with it.",
    "Please sort out the next item.",
)

TAGS = ("div", "span", "p", "li", "td", "section", "nav", "footer", "button", "label")


def markup(rng: random.Random) -> str:
    """A fragment of page markup, a stylesheet, a log or a config file."""
    kind = rng.randrange(4)
    lines: list[str] = []
    for i in range(rng.randint(8, 40)):
        n = rng.randint(1, 999)
        if kind == 0:
            tag = rng.choice(TAGS)
            lines.append(
                f'<{tag} id="el-{n}" class="{rng.choice(["row", "col", "card", "menu"])}-{i}">'
                f'<a href="/{rng.choice(["shop", "blog", "help"])}/{n}">Link {n}</a></{tag}>'
            )
        elif kind == 1:
            lines.append(
                f".{rng.choice(['card', 'menu', 'grid'])}-{n} {{ margin: {n % 17}px; "
                f"color: #{n:03x}; display: {rng.choice(['flex', 'block', 'none'])}; }}"
            )
        elif kind == 2:
            lines.append(
                f"2026-0{rng.randint(1, 9)}-1{rng.randint(0, 9)} 1{rng.randint(0, 9)}:"
                f"{rng.randint(10, 59)}:{rng.randint(10, 59)} "
                f"{rng.choice(['INFO', 'DEBUG', 'WARN'])} worker-{n % 8} "
                f"{rng.choice(['cache refreshed', 'request served', 'job finished', 'retrying'])}"
                f" in {n} ms"
            )
        else:
            lines.append(
                f'  <setting name="{rng.choice(["timeout", "theme", "locale", "retries"])}_{i}" '
                f'value="{n}"/>'
            )
    return "\n".join(lines)


def paragraph(rng: random.Random, low: int = 2, high: int = 8) -> str:
    """Everyday sentences (one in four an everyday instruction), ``low``-``high`` of them."""
    out: list[str] = []
    for _ in range(rng.randint(low, high)):
        pool = INSTRUCTIONS if rng.random() < 0.25 else SENTENCES
        out.append(rng.choice(pool))
    return " ".join(out)


def main() -> None:
    rng = random.Random(20261203)  # noqa: S311 - data, not security
    rows: list[dict[str, object]] = []

    def add(messages: list[dict[str, str]], lang: str = "en", tools: list | None = None) -> None:
        row: dict[str, object] = {
            "id": f"BG-{len(rows) + 1:04d}",
            "messages": messages,
            "label": "allow",
            "tags": ["benign"],
            "lang": lang,
            "writer": WRITER,
        }
        if tools:
            row["tools"] = tools
        rows.append(row)

    for _ in range(220):  # one paragraph
        add([{"role": "user", "content": paragraph(rng)}])
    for instruction in INSTRUCTIONS:  # an instruction on its own, and inside a paragraph
        add([{"role": "user", "content": instruction}])
        before, after = paragraph(rng, 1, 3), paragraph(rng, 0, 3)
        add([{"role": "user", "content": f"{before} {instruction} {after}".strip()}])
    for _ in range(60):  # a longer text: several paragraphs
        text = "\n\n".join(paragraph(rng, 3, 7) for _ in range(rng.randint(3, 9)))
        add([{"role": "user", "content": text}])
    for lang, sentence in FOREIGN:
        add([{"role": "user", "content": sentence}], lang=lang)
        other = rng.choice(
            [s for code, s in FOREIGN if code == lang and s != sentence] or [sentence]
        )
        add([{"role": "user", "content": f"{sentence} {other}"}], lang=lang)
    for name, description in TOOLS:
        add([{"role": "user", "content": description}])
        tool = {
            "type": "function",
            "function": {
                "name": name,
                "description": description,
                "parameters": {"type": "object", "properties": {"id": {"type": "string"}}},
            },
        }
        add([{"role": "user", "content": rng.choice(TOOL_TURNS)}], tools=[tool])
    for _ in range(40):
        add([{"role": "user", "content": markup(rng)}])
    for _ in range(20):  # a sentence, then markup
        add([{"role": "user", "content": f"{paragraph(rng, 1, 2)}\n{markup(rng)}"}])
    out = Path("data/screening/batch_bg.jsonl")
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))


if __name__ == "__main__":
    main()
