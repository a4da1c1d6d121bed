"""Word lists the demo company is built from (tandem/demo/data.py): names, cities, reasons."""

from __future__ import annotations

from dataclasses import dataclass

from tandem.people.models import FUNNEL_ORDER, ActivityKind, CompanySize, Stage


@dataclass(frozen=True)
class Country:
    code: str
    weight: int
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    legal_forms: tuple[str, ...]
    # (city, region, postcode pattern: # = digit, A = letter, others literal)
    cities: tuple[tuple[str, str, str], ...]
    streets: tuple[str, ...]
    street_number_first: bool = True


# fmt: off
EN_FIRST = (
    "James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda", "David",
    "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas",
    "Sarah", "Chris", "Karen", "Daniel", "Nancy", "Matthew", "Lisa", "Anthony", "Betty",
    "Mark", "Sandra", "Steven", "Ashley", "Andrew", "Emily", "Joshua", "Michelle", "Kevin",
    "Amanda", "Brian", "Melissa", "George", "Rebecca", "Olivia", "Noah", "Emma", "Liam",
    "Ava", "Ethan", "Sophia", "Lucas", "Chloe", "Zoë", "Jordan", "Taylor", "Grace", "Oliver",
)
EN_LAST = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Wilson",
    "Anderson", "Taylor", "Thomas", "Moore", "Jackson", "Martin", "Lee", "Thompson", "White",
    "Harris", "Clark", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright",
    "Scott", "Hill", "Green", "Adams", "Baker", "Nelson", "Carter", "Mitchell", "Roberts",
    "Campbell", "Evans", "Edwards", "Collins", "Stewart", "Morris", "Murphy", "Cook", "O'Brien",
    "Patel", "Khan", "Nguyen", "Kim", "Chen", "Smithson", "Smyth", "Hughes", "Price",
)
DE_FIRST = (
    "Anna", "Lena", "Julia", "Laura", "Katharina", "Sophie", "Marie", "Lea", "Sarah", "Hannah",
    "Lukas", "Jonas", "Leon", "Felix", "Paul", "Maximilian", "Tobias", "Jürgen", "Stefan",
    "Andreas", "Michael", "Thomas", "Sabine", "Petra", "Birgit", "Uwe", "Jörg", "Günter",
)
DE_LAST = (
    "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz",
    "Hoffmann", "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schröder", "Neumann",
    "Schwarz", "Zimmermann", "Braun", "Krüger", "Hofmann", "Hartmann", "Lange", "Schmitt",
    "Werner", "Schmitz", "Krause", "Meier", "Lehmann", "Schmid", "Schulze", "Maier", "Köhler",
)
FR_FIRST = (
    "Camille", "Léa", "Manon", "Chloé", "Inès", "Sarah", "Julie", "Émilie", "Claire", "Céline",
    "Nathalie", "Lucas", "Hugo", "Louis", "Gabriel", "Arthur", "Jules", "Théo", "Nicolas",
    "Julien", "Antoine", "François", "Pierre", "Mathieu", "Sébastien", "Olivier", "Hélène",
)
FR_LAST = (
    "Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand", "Dubois", "Moreau",
    "Laurent", "Simon", "Michel", "Lefèvre", "Leroy", "Roux", "David", "Bertrand", "Morel",
    "Fournier", "Girard", "Bonnet", "Dupont", "Lambert", "Fontaine", "Rousseau", "Vincent",
    "Muller", "Lefebvre", "Faure", "André", "Mercier", "Blanc", "Guérin", "Boyer", "Garnier",
)
NL_FIRST = (
    "Emma", "Sophie", "Julia", "Tess", "Anouk", "Fleur", "Sanne", "Lotte", "Daan", "Sem",
    "Lucas", "Levi", "Bram", "Thijs", "Jesse", "Ruben", "Joost", "Pieter", "Willem", "Maarten",
    "Femke", "Ingrid", "Marieke", "Koen", "Sven", "Niels",
)
NL_LAST = (
    "de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Janssen", "Visser",
    "Smit", "Meijer", "de Boer", "Mulder", "de Groot", "Bos", "Vos", "Peters", "Hendriks",
    "van Leeuwen", "Dekker", "Brouwer", "de Wit", "Dijkstra", "Smits", "de Graaf", "van der Meer",
)
ES_FIRST = (
    "Lucía", "María", "Paula", "Sofía", "Martina", "Carmen", "Laura", "Marta", "Elena",
    "Hugo", "Martín", "Pablo", "Daniel", "Alejandro", "Javier", "Sergio", "Álvaro", "Diego",
    "Jorge", "Raúl", "Adrián", "Cristina", "Nuria", "Andrés",
)
ES_LAST = (
    "García", "Rodríguez", "González", "Fernández", "López", "Martínez", "Sánchez", "Pérez",
    "Gómez", "Martín", "Jiménez", "Ruiz", "Hernández", "Díaz", "Moreno", "Muñoz", "Álvarez",
    "Romero", "Alonso", "Gutiérrez", "Navarro", "Torres", "Domínguez", "Vázquez", "Ramos",
)
SE_FIRST = (
    "Alice", "Maja", "Elsa", "Astrid", "Wilma", "Saga", "Ebba", "Ingrid", "Karin", "Lars",
    "Erik", "Oscar", "William", "Hugo", "Axel", "Nils", "Gustav", "Anders", "Björn", "Johan",
    "Sofia", "Linnea", "Mikael", "Åsa",
)
SE_LAST = (
    "Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson",
    "Persson", "Svensson", "Gustafsson", "Pettersson", "Jonsson", "Jansson", "Hansson",
    "Bengtsson", "Jönsson", "Lindberg", "Jakobsson", "Magnusson", "Lindström", "Lindqvist",
    "Berg", "Axelsson", "Sandberg", "Åkesson",
)

COUNTRIES = (
    Country(
        "US", 34, EN_FIRST, EN_LAST, ("Inc.", "LLC", "Corp."),
        (
            ("New York", "NY", "100##"), ("Austin", "TX", "787##"), ("Chicago", "IL", "606##"),
            ("Denver", "CO", "802##"), ("Seattle", "WA", "981##"), ("Boston", "MA", "021##"),
            ("Atlanta", "GA", "303##"), ("San Diego", "CA", "921##"),
            ("Columbus", "OH", "432##"), ("Portland", "OR", "972##"),
        ),
        ("Main Street", "Oak Avenue", "Park Road", "Market Street", "Lakeview Drive",
         "Commerce Way", "Elm Street", "Riverside Drive", "Industrial Parkway"),
    ),
    Country(
        "GB", 15, EN_FIRST, EN_LAST, ("Ltd", "plc", "Ltd"),
        (
            ("London", "England", "EC2A #AA"), ("Manchester", "England", "M1 #AA"),
            ("Leeds", "England", "LS1 #AA"), ("Bristol", "England", "BS1 #AA"),
            ("Glasgow", "Scotland", "G1 #AA"), ("Edinburgh", "Scotland", "EH1 #AA"),
            ("Cardiff", "Wales", "CF10 #AA"), ("Birmingham", "England", "B1 #AA"),
        ),
        ("High Street", "Station Road", "Church Lane", "Victoria Road", "Mill Lane",
         "Queen Street", "King's Road", "The Green"),
    ),
    Country(
        "DE", 15, DE_FIRST, DE_LAST, ("GmbH", "AG", "GmbH & Co. KG"),
        (
            ("Berlin", "Berlin", "10###"), ("München", "Bayern", "80###"),
            ("Hamburg", "Hamburg", "20###"), ("Köln", "Nordrhein-Westfalen", "50###"),
            ("Frankfurt am Main", "Hessen", "60###"), ("Stuttgart", "Baden-Württemberg", "70###"),
            ("Leipzig", "Sachsen", "04###"), ("Düsseldorf", "Nordrhein-Westfalen", "40###"),
        ),
        ("Hauptstraße", "Bahnhofstraße", "Gartenstraße", "Schillerstraße", "Goethestraße",
         "Industriestraße", "Lindenallee", "Am Markt"),
        False,
    ),
    Country(
        "FR", 10, FR_FIRST, FR_LAST, ("SAS", "SA", "SARL"),
        (
            ("Paris", "Île-de-France", "750##"), ("Lyon", "Auvergne-Rhône-Alpes", "6900#"),
            ("Marseille", "Provence-Alpes-Côte d'Azur", "130##"),
            ("Toulouse", "Occitanie", "310##"), ("Nantes", "Pays de la Loire", "440##"),
            ("Lille", "Hauts-de-France", "590##"), ("Bordeaux", "Nouvelle-Aquitaine", "330##"),
        ),
        ("rue de la République", "avenue Victor Hugo", "rue du Moulin", "boulevard Pasteur",
         "rue des Lilas", "place de la Mairie", "rue Nationale"),
    ),
    Country(
        "NL", 8, NL_FIRST, NL_LAST, ("B.V.", "N.V.", "B.V."),
        (
            ("Amsterdam", "Noord-Holland", "10## AA"), ("Rotterdam", "Zuid-Holland", "30## AA"),
            ("Utrecht", "Utrecht", "35## AA"), ("Eindhoven", "Noord-Brabant", "56## AA"),
            ("Groningen", "Groningen", "97## AA"), ("Den Haag", "Zuid-Holland", "25## AA"),
        ),
        ("Dorpsstraat", "Kerkstraat", "Stationsweg", "Molenweg", "Industrieweg", "Prinsengracht"),
        False,
    ),
    Country(
        "CA", 7, EN_FIRST, EN_LAST, ("Inc.", "Ltd.", "Corp."),
        (
            ("Toronto", "ON", "M5V #A#"), ("Vancouver", "BC", "V6B #A#"),
            ("Montréal", "QC", "H2Y #A#"), ("Calgary", "AB", "T2P #A#"),
            ("Ottawa", "ON", "K1P #A#"),
        ),
        ("King Street West", "Granville Street", "Rue Saint-Paul", "Bay Street",
         "Centre Street", "Queen Street"),
    ),
    Country(
        "ES", 6, ES_FIRST, ES_LAST, ("S.L.", "S.A.", "S.L."),
        (
            ("Madrid", "Madrid", "280##"), ("Barcelona", "Cataluña", "080##"),
            ("Valencia", "Comunidad Valenciana", "460##"), ("Sevilla", "Andalucía", "410##"),
            ("Bilbao", "País Vasco", "480##"),
        ),
        ("Calle Mayor", "Avenida de la Constitución", "Calle Real", "Paseo de Gracia",
         "Calle del Sol", "Gran Vía"),
        False,
    ),
    Country(
        "SE", 5, SE_FIRST, SE_LAST, ("AB", "AB", "HB"),
        (
            ("Stockholm", "Stockholms län", "111 ##"), ("Göteborg", "Västra Götalands län", "411 ##"),
            ("Malmö", "Skåne län", "211 ##"), ("Uppsala", "Uppsala län", "753 ##"),
        ),
        ("Storgatan", "Drottninggatan", "Kungsgatan", "Skolgatan", "Järnvägsgatan"),
        False,
    ),
)

COMPANY_HEADS = (
    "North", "Blue", "Silver", "Bright", "Iron", "Green", "Red", "Stone", "Oak", "Cedar",
    "Harbor", "Summit", "River", "Swift", "Clear", "True", "Bold", "Prime", "Nova", "Polar",
    "Sun", "Alder", "Lumen", "Vector", "Orbit", "Delta", "Apex", "Crest", "Meadow", "Falcon",
)
COMPANY_TAILS = (
    "wind", "peak", "field", "bridge", "gate", "works", "line", "stone", "point", "wave",
    "path", "forge", "leaf", "light", "mark", "ridge", "brook", "core", "span", "shore",
)
INDUSTRIES = (
    ("Software", "Software", 14), ("Manufacturing", "Manufacturing", 14),
    ("Logistics", "Logistics", 9), ("Health", "Healthcare", 8), ("Retail", "Retail", 8),
    ("Finance", "Financial services", 7), ("Build", "Construction", 7),
    ("Learning", "Education", 5), ("Energy", "Energy", 6), ("Hotels", "Hospitality", 5),
    ("Farms", "Agriculture", 4), ("Media", "Media", 5), ("Consulting", "Professional services", 8),
)
SIZES = ((CompanySize.S1, 18), (CompanySize.S11, 32), (CompanySize.S51, 26),
          (CompanySize.S201, 16), (CompanySize.S1001, 8))
TITLES = (
    ("CEO", 3), ("Managing Director", 3), ("CFO", 2), ("COO", 2), ("CTO", 2),
    ("VP Sales", 3), ("VP Marketing", 3), ("Head of Operations", 4), ("Head of IT", 4),
    ("IT Manager", 6), ("Operations Manager", 7), ("Purchasing Manager", 6),
    ("Marketing Manager", 6), ("Office Manager", 5), ("Project Manager", 7),
    ("Sales Manager", 5), ("Finance Manager", 4), ("HR Manager", 4), ("Engineer", 6),
    ("Analyst", 5), ("Consultant", 4), ("Team Lead", 5), ("Procurement Specialist", 3),
    ("Founder", 2),
)
SOURCES = (
    ("website", 26), ("content download", 14), ("webinar", 8), ("trade show", 12),
    ("referral", 10), ("sales prospecting", 10), ("partner", 6), ("paid search", 8),
    ("newsletter", 6),
)
INBOUND = {"website", "content download", "webinar", "paid search", "newsletter"}
PERSONAL_DOMAINS = ("mail.example", "inbox.example", "post.example")

# Final stages, with the share of people that end there (many early, few customers).
FINAL_STAGES: tuple[tuple[str, int], ...] = (
    (Stage.SUBSCRIBER, 24), (Stage.LEAD, 27), (Stage.MQL, 10), (Stage.SAL, 5),
    (Stage.OPPORTUNITY, 5), (Stage.CUSTOMER, 8), (Stage.ADVOCATE, 3),
    (Stage.DISQUALIFIED, 11), (Stage.RECYCLED, 7),
)
FUNNEL: list[str] = [s for s, _ in sorted(FUNNEL_ORDER.items(), key=lambda kv: kv[1])]
# Typical days spent before moving on to each stage.
DAYS_TO: dict[str, tuple[float, float]] = {
    Stage.LEAD: (3, 60), Stage.MQL: (2, 45), Stage.SAL: (0.1, 4), Stage.OPPORTUNITY: (3, 30),
    Stage.CUSTOMER: (14, 90), Stage.ADVOCATE: (45, 180), Stage.DISQUALIFIED: (1, 40),
    Stage.RECYCLED: (15, 90),
}
FORWARD_REASONS: dict[str, tuple[str, ...]] = {
    Stage.LEAD: ("Filled in the contact form", "Asked for a call back", ""),
    Stage.MQL: ("Score passed the threshold", "Downloaded the pricing guide",
                "Attended the webinar and visited pricing"),
    Stage.SAL: ("Accepted: fits our target profile", "Accepted after a first call",
                "Accepted: budget and timing look right"),
    Stage.OPPORTUNITY: ("Discovery call done, budget confirmed", "Asked for a proposal",
                        "Demo went well; evaluating with the team"),
    Stage.CUSTOMER: ("Contract signed", "Order received", "Signed the annual plan"),
    Stage.ADVOCATE: ("Agreed to be a reference", "Referred a colleague",
                     "Spoke at our customer day"),
}
SEND_BACK_REASONS = (
    "Not the decision maker",
    "No budget this year",
    "Timing: revisit next quarter",
    "Wrong contact; passed on to a colleague",
    "Needs more nurturing before a sales call",
)
DISQUALIFY_REASONS = (
    "Student, not a buyer",
    "Works for a competitor",
    "Company too small for our offer",
    "Outside our markets",
    "Email bounced; no other way to reach them",
    "Asked not to be contacted by sales",
)
RECYCLE_REASONS = (
    "No budget this year; check back next year",
    "Went quiet after the proposal",
    "Chose a competitor; revisit at their renewal",
    "Project postponed",
)

ACTIVITY_TEXT: dict[str, tuple[tuple[str, str], ...]] = {
    ActivityKind.NOTE: (
        ("Met at the trade-show booth", "Interested in the reporting features."),
        ("Background", "Currently runs everything in spreadsheets."),
        ("Org chart", "Reports to the head of operations; finance signs off."),
        ("Needs", "Wants integrations with their accounting tool."),
        ("Competitor mentioned", "Also looking at two other vendors."),
    ),
    ActivityKind.CALL: (
        ("Discovery call", "Went through their current process and pain points."),
        ("Follow-up call", "Checked in after the demo."),
        ("Intro call", "Short introduction; agreed to send material."),
        ("Renewal check-in", "Happy so far; asked about the new release."),
    ),
    ActivityKind.MEETING: (
        ("Product demo", "Demo for the operations team."),
        ("Pricing review", "Went through the proposal line by line."),
        ("Quarterly business review", "Reviewed usage and next quarter's goals."),
        ("Onboarding workshop", "Set up their first workflows together."),
    ),
    ActivityKind.EMAIL: (
        ("Sent the case study", "Shared the customer story from their industry."),
        ("Sent pricing", "Pricing sheet and a short summary of options."),
        ("Thank-you note", "Thanks for visiting our booth."),
        ("Proposal", "Proposal attached, valid for 30 days."),
    ),
}
OUTCOMES: dict[str, tuple[str, ...]] = {
    ActivityKind.NOTE: ("",),
    ActivityKind.CALL: ("Connected; booked a demo", "Left a voicemail", "No answer",
                        "Asked to call back next week", "Connected; sending a proposal"),
    ActivityKind.MEETING: ("Next steps agreed", "Proposal requested",
                           "Needs sign-off from finance", "Positive; decision next month"),
    ActivityKind.EMAIL: ("Replied", "No reply yet", "Replied with questions",
                         "Forwarded to a colleague"),
}
# How many activities a person at each final stage has (min, max).
ACTIVITY_COUNTS: dict[str, tuple[int, int]] = {
    Stage.SUBSCRIBER: (0, 1), Stage.LEAD: (0, 2), Stage.MQL: (1, 3), Stage.SAL: (2, 4),
    Stage.OPPORTUNITY: (3, 7), Stage.CUSTOMER: (4, 9), Stage.ADVOCATE: (5, 11),
    Stage.DISQUALIFIED: (1, 3), Stage.RECYCLED: (1, 4),
}


# fmt: on
