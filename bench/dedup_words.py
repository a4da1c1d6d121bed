"""Word lists for bench.dedup_quality: names with a rough frequency order, streets, towns,
nicknames, and the misreadings and misspellings a copy may get."""

# ruff: noqa: SIM905 (a word list reads best as words)

from __future__ import annotations

FIRST_NAMES = (
    "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara "
    "Richard Susan Joseph Jessica Thomas Sarah Charles Karen Christopher Lisa Daniel Nancy "
    "Matthew Betty Anthony Margaret Mark Sandra Donald Ashley Steven Kimberly Paul Emily "
    "Andrew Donna Joshua Michelle Kenneth Carol Kevin Amanda Brian Dorothy George Melissa "
    "Timothy Deborah Ronald Stephanie Edward Rebecca Jason Sharon Jeffrey Laura Ryan Cynthia "
    "Jacob Kathleen Gary Amy Nicholas Angela Eric Shirley Jonathan Anna Stephen Brenda Larry "
    "Pamela Justin Emma Scott Nicole Brandon Helen Benjamin Samantha Samuel Katherine Gregory "
    "Christine Alexander Debra Frank Rachel Patrick Carolyn Raymond Janet Jack Catherine "
    "Dennis Maria Jerry Heather Tyler Diane Aaron Ruth Jose Julie Adam Olivia Nathan Joyce "
    "Henry Virginia Douglas Victoria Zachary Kelly Peter Lauren Kyle Christina Ethan Joan "
    "Walter Evelyn Noah Judith Jeremy Megan Christian Andrea Keith Cheryl Roger Hannah Terry "
    "Jacqueline Gerald Martha Harold Gloria Sean Teresa Austin Ann Carl Sara Arthur Madison "
    "Lawrence Frances Dylan Kathryn Jesse Janice Jordan Jean Bryan Abigail Billy Alice Joe "
    "Judy Bruce Sophia Gabriel Grace Logan Denise Albert Amber Willie Doris Alan Marilyn Juan "
    "Danielle Wayne Beverly Elijah Isabella Randy Theresa Roy Diana Vincent Natalie Ralph "
    "Brittany Eugene Charlotte Russell Marie Bobby Kayla Mason Alexis Philip Lori Louis "
    "Ottoline Ignatius Perpetua Leopold Ysolde Barnaby Clementine Thaddeus Imogen Cosmo "
    "Henrietta Lysander"
).split()
# Common last names (heavier first), then rare ones made from syllables.
LAST_NAMES = (
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez "
    "Lopez Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson "
    "White Harris Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott "
    "Torres Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter "
    "Roberts Gomez Phillips Evans Turner Diaz Parker Cruz Edwards Collins Reyes Stewart "
    "Morris Morales Murphy Cook Rogers Gutierrez Ortiz Morgan Cooper Peterson Bailey Reed "
    "Kelly Howard Ramos Kim Cox Ward Richardson Watson Brooks Chavez Wood James Bennett Gray "
    "Mendoza Ruiz Hughes Price Alvarez Castillo Sanders Patel Myers Long Ross Foster Jimenez "
    "Powell Jenkins Perry Russell Sullivan Bell Coleman Butler Henderson Barnes Gonzales "
    "Fisher Vasquez Simmons Romero Jordan Patterson Alexander Hamilton Graham Reynolds "
    "Griffin Wallace Moreno West Cole Hayes Bryant Herrera Gibson Ellis Tran Medina Aguilar "
    "Stevens Murray Ford Castro Marshall Owens Harrison Fernandez McDonald Woods Washington "
    "Kennedy Wells Vargas Henry Chen Freeman Webb Tucker Guzman Burns Crawford Olson Simpson "
    "Porter Hunter Gordon Mendez Silva Shaw Snyder Mason Dixon Munoz Hunt Hicks Holmes Palmer "
    "Wagner Black Robertson Boyd Rose Stone Salazar Fox Warren Mills Meyer Rice Schmidt Garza "
    "Daniels Ferguson Nichols Stephens Soto Weaver Ryan Gardner Payne Grant Dunn Kelley "
    "Spencer Hawkins Arnold Pierce Vazquez Hansen Peters Santos Hart Bradley Knight Elliott "
    "Cunningham Duncan Armstrong Hudson Carroll Lane Riley Andrews Alvarado Ray Delgado Berry "
    "Perkins Hoffman Johnston Matthews Pena Richards Contreras Willis Carpenter Lawrence "
    "Sandoval"
).split()
ONSETS = ("b br c ch d dr f g gr h j k l m n p pr qu r s sh st t th tr v w wh z").split()
VOWELS = ("a e i o u ai ea ee oa ou y").split()
CODAS = ("b ck d ff g ll m n nd ng nt p r rd rn rt s ss st t th x").split()
ENDINGS = ("er ington ley ford well ton son wick more by stead worth ham").split()
STREET_NAMES = (
    "Main Oak Pine Maple Cedar Elm Washington Lake Hill Park Walnut Spring North Ridge "
    "Lincoln Church Willow Mill Sunset Railroad Jackson Cherry Highland Meadow Forest "
    "Chestnut River Jefferson Madison Franklin Adams Center Union Prospect Dogwood Hickory "
    "Laurel Magnolia Birch Sycamore Poplar Spruce Valley Woodland Lakeview Orchard Summit "
    "Fairview Chapel Hawthorne Sheridan Harrison Grant Monroe Bridge School College Academy "
    "Market Front Water Liberty Victoria Albany Greenwood Riverside Kingston Wellington "
    "Brookside"
).split()
# Full and short forms: a copy may switch between them.
STREET_KINDS = {
    "Street": "St",
    "Avenue": "Ave",
    "Road": "Rd",
    "Lane": "Ln",
    "Drive": "Dr",
    "Court": "Ct",
    "Place": "Pl",
    "Boulevard": "Blvd",
}
CITIES = (
    "Springfield Riverton Fairview Franklin Greenville Bristol Clinton Georgetown Salem "
    "Madison Ashland Milton Dover Hudson Kingston Oxford Burlington Manchester Newport "
    "Arlington Clayton Jackson Lexington Marion Auburn Dayton Lebanon Hamilton Chester "
    "Winchester"
).split()

NICKNAMES = {
    "William": ("Bill", "Will", "Billy"),
    "Robert": ("Bob", "Rob", "Bobby"),
    "Richard": ("Rick", "Dick", "Rich"),
    "James": ("Jim", "Jimmy", "Jamie"),
    "John": ("Jack", "Johnny"),
    "Michael": ("Mike", "Mikey"),
    "Elizabeth": ("Liz", "Beth", "Betty", "Eliza"),
    "Margaret": ("Maggie", "Peggy", "Meg"),
    "Katherine": ("Kate", "Kathy", "Katie"),
    "Catherine": ("Cathy", "Kate"),
    "Jennifer": ("Jen", "Jenny"),
    "Patricia": ("Pat", "Patty", "Trish"),
    "Thomas": ("Tom", "Tommy"),
    "Christopher": ("Chris", "Kit"),
    "Joseph": ("Joe", "Joey"),
    "Charles": ("Charlie", "Chuck"),
    "Daniel": ("Dan", "Danny"),
    "Matthew": ("Matt",),
    "Anthony": ("Tony",),
    "Steven": ("Steve",),
    "Stephen": ("Steve",),
    "Andrew": ("Andy", "Drew"),
    "Kenneth": ("Ken", "Kenny"),
    "Timothy": ("Tim",),
    "Edward": ("Ed", "Eddie", "Ted"),
    "Jonathan": ("Jon",),
    "Nicholas": ("Nick",),
    "Samuel": ("Sam",),
    "Benjamin": ("Ben",),
    "Alexander": ("Alex",),
    "Deborah": ("Debbie", "Deb"),
    "Rebecca": ("Becky",),
    "Susan": ("Sue", "Susie"),
    "Victoria": ("Vicky", "Tori"),
    "Christine": ("Chris", "Tina"),
    "Kimberly": ("Kim",),
    "Pamela": ("Pam",),
    "Samantha": ("Sam",),
    "Abigail": ("Abby",),
    "Gregory": ("Greg",),
    "Lawrence": ("Larry",),
    "Gerald": ("Jerry",),
    "Raymond": ("Ray",),
    "Donald": ("Don",),
    "Ronald": ("Ron",),
    "Jacqueline": ("Jackie",),
    "Dorothy": ("Dot", "Dottie"),
    "Frances": ("Fran",),
    "Theresa": ("Tess",),
    "Henrietta": ("Hetty",),
}
# OCR confusions: what a scanner reads for what was printed.
OCR = (
    ("rn", "m"),
    ("m", "rn"),
    ("l", "1"),
    ("i", "l"),
    ("o", "0"),
    ("cl", "d"),
    ("e", "c"),
    ("h", "b"),
    ("u", "v"),
    ("S", "5"),
)
# Spelled apart, said alike.
PHONETIC = (
    ("ph", "f"),
    ("f", "ph"),
    ("ck", "k"),
    ("c", "k"),
    ("k", "c"),
    ("y", "ie"),
    ("ie", "y"),
    ("ee", "ea"),
    ("ou", "ow"),
    ("s", "z"),
    ("th", "t"),
    ("ll", "l"),
    ("tt", "t"),
    ("mm", "m"),
    ("ai", "ay"),
    ("ey", "y"),
)
CORRUPTIONS = (
    "typo",
    "ocr",
    "phonetic",
    "swap",
    "nickname_or_initial",
    "street_form",
    "missing",
    "postcode_digit",
    "house_digit",
)
