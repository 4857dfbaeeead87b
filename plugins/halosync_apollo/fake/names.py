"""Word lists for the contact generator: common names, B2B titles, company words, US cities."""

from __future__ import annotations

FIRST_NAMES = (
    "James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda", "William", "Elizabeth", "David",
    "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Charles", "Karen", "Daniel", "Nancy",
    "Matthew", "Lisa", "Anthony", "Betty", "Mark", "Margaret", "Steven", "Sandra", "Paul", "Ashley", "Andrew",
    "Kimberly", "Joshua", "Emily", "Kevin", "Donna", "Brian", "Michelle", "George", "Carol", "Timothy", "Amanda",
    "Ronald", "Melissa", "Jason", "Deborah", "Priya", "Wei", "Mohammed", "Sofia", "Lucas", "Aisha", "Mateo", "Chloe",
    "Sean", "Niamh", "Hiroshi", "Ingrid",
)
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
    "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin", "Lee",
    "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young",
    "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker",
    "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts", "Patel", "Chen", "Kim", "O'Brien", "Müller",
    "Okafor", "Kowalski", "Tanaka", "Larsen", "Dubois",
)
TITLES = (
    "CEO", "CTO", "CFO", "COO", "IT Director", "IT Manager", "Head of IT", "VP of Engineering", "Office Manager",
    "Operations Manager", "Systems Administrator", "Network Engineer", "Practice Manager", "Managing Partner",
    "Director of Operations", "Controller", "Facilities Manager", "Procurement Lead", "Founder", "Owner",
)
WORDS = (
    "Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Wonka", "Cyberdyne", "Soylent", "Hooli", "Vandelay",
    "Pied", "Piper", "Aperture", "Tyrell", "Massive", "Dynamic", "Blue", "River", "Summit", "Pioneer", "Harbor",
    "Granite", "Cedar", "Northwind", "Contoso", "Fabrikam", "Tailspin", "Litware", "Proseware", "Lakeshore",
    "Redwood", "Silver", "Beacon", "Atlas", "Orion", "Apex", "Vertex", "Keystone", "Meridian", "Evergreen", "Bright",
    "Dental", "Legal", "Logistics", "Health", "Capital", "Partners", "Systems", "Solutions", "Labs", "Foods",
)
# Legal-form suffix spellings that name the same company; the first is the canonical one.
SUFFIX_VARIANTS: dict[str, tuple[str, ...]] = {
    "inc": (" Inc.", " Inc", ", Inc.", " Incorporated", ""),
    "llc": (" LLC", ", LLC", " L.L.C.", ""),
    "ltd": (" Ltd", " Ltd.", " Limited", ""),
    "corp": (" Corp.", " Corporation", " Corp", ""),
    "none": ("", " Inc.", " LLC"),
    "gmbh": (" GmbH", " G.m.b.H.", ""),
}
CITIES = (
    ("Austin", "Texas", "United States"), ("Denver", "Colorado", "United States"),
    ("Chicago", "Illinois", "United States"), ("Boston", "Massachusetts", "United States"),
    ("Seattle", "Washington", "United States"), ("Atlanta", "Georgia", "United States"),
    ("Phoenix", "Arizona", "United States"), ("Portland", "Oregon", "United States"),
    ("Raleigh", "North Carolina", "United States"), ("Columbus", "Ohio", "United States"),
    ("Toronto", "Ontario", "Canada"), ("Manchester", "England", "United Kingdom"),
)
