"""What the demo shop sells and writes about: categories, brands and their models, places, guides.

Plain data, so the catalogue (pages) and the Search Console stand-in (queries) draw on one vocabulary.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Category:
    slug: str
    name: str  # the category page's H1 and the start of its title
    keyword: str  # the phrase the category page ranks for (contained in its name, case-insensitively)
    singular: str
    models: tuple[tuple[str, str], ...]  # (brand, model)
    specs: tuple[str, ...]


CATEGORIES = (
    Category(
        "trail-running-shoes", "Trail Running Shoes", "trail running shoes", "trail running shoe",
        (("Salomon", "Speedcross"), ("Hoka", "Speedgoat"), ("La Sportiva", "Bushido"), ("Altra", "Lone Peak"),
         ("Merrell", "Agility Peak"), ("Salomon", "Sense Ride"), ("Hoka", "Mafate Speed")),
        ("Weight", "Drop", "Stack height", "Lug depth"),
    ),
    Category(
        "hiking-boots", "Hiking Boots", "hiking boots", "hiking boot",
        (("Merrell", "Moab"), ("Salomon", "Quest"), ("La Sportiva", "Nucleo"), ("Scarpa", "Zodiac"),
         ("Lowa", "Renegade"), ("Hoka", "Kaha")),
        ("Weight", "Waterproofing", "Sole", "Upper"),
    ),
    Category(
        "hiking-jackets", "Waterproof Hiking Jackets", "waterproof hiking jacket", "waterproof jacket",
        (("Arc'teryx", "Beta AR"), ("Patagonia", "Torrentshell"), ("Rab", "Downpour"), ("Arc'teryx", "Zeta SL"),
         ("Patagonia", "Granite Crest"), ("Mountain Hardwear", "Exposure/2")),
        ("Weight", "Membrane", "Hydrostatic head", "Pockets"),
    ),
    Category(
        "tents", "Ultralight Tents", "ultralight tent", "tent",
        (("MSR", "Hubba Hubba"), ("Big Agnes", "Copper Spur"), ("Nemo", "Hornet"), ("Big Agnes", "Tiger Wall"),
         ("MSR", "FreeLite"), ("Zpacks", "Duplex")),
        ("Packed weight", "Sleeps", "Floor area", "Poles"),
    ),
    Category(
        "sleeping-bags", "Sleeping Bags", "sleeping bags", "sleeping bag",
        (("Western Mountaineering", "UltraLite"), ("Rab", "Neutrino"), ("Nemo", "Disco"),
         ("Mountain Hardwear", "Phantom"), ("Therm-a-Rest", "Parsec"), ("Big Agnes", "Anvil Horn")),
        ("Comfort rating", "Fill", "Weight", "Zip"),
    ),
    Category(
        "base-layers", "Merino Wool Base Layers", "merino wool base layer", "base layer",
        (("Smartwool", "Classic Thermal"), ("Icebreaker", "200 Oasis"), ("Ortovox", "185 Rock'n'Wool"),
         ("Patagonia", "Capilene Cool"), ("Icebreaker", "ZoneKnit"), ("Smartwool", "Intraknit")),
        ("Fabric", "Weight", "Fit", "Sizes"),
    ),
    Category(
        "trekking-poles", "Trekking Poles", "trekking poles", "trekking pole",
        (("Black Diamond", "Distance Carbon Z"), ("Leki", "Makalu"), ("Black Diamond", "Trail Ergo"),
         ("Leki", "Cressida"), ("Komperdell", "Carbon Approach")),
        ("Weight", "Length", "Locking", "Grip"),
    ),
    Category(
        "backpacks", "Hiking Backpacks", "hiking backpack", "backpack",
        (("Osprey", "Atmos AG"), ("Osprey", "Exos"), ("Gregory", "Baltoro"), ("Deuter", "Aircontact"),
         ("Hyperlite", "Southwest"), ("Gregory", "Focal")),
        ("Volume", "Weight", "Back length", "Frame"),
    ),
    Category(
        "headlamps", "Headlamps", "headlamp", "headlamp",
        (("Black Diamond", "Spot"), ("Petzl", "Actik Core"), ("Black Diamond", "Storm"), ("Petzl", "Swift RL"),
         ("Nitecore", "NU25")),
        ("Lumens", "Battery", "Beam distance", "Waterproof rating"),
    ),
    Category(
        "camp-stoves", "Camping Stoves", "camping stove", "stove",
        (("MSR", "PocketRocket"), ("Jetboil", "Flash"), ("MSR", "WindBurner"), ("Soto", "Amicus"),
         ("Primus", "Lite Plus")),
        ("Boil time", "Weight", "Fuel", "Output"),
    ),
)  # fmt: skip

# model years and editions, to name more products than the models above when the catalogue is scaled
EDITIONS = ("", "2", "Pro", "Lite", "3", "SL", "Plus", "XT", "4", "Ultra", "Max", "Trail")

BRAND_SITES = {
    "Salomon": "https://www.salomon.com/",
    "Hoka": "https://www.hoka.com/",
    "La Sportiva": "https://www.lasportiva.com/",
    "Altra": "https://www.altrarunning.com/",
    "Merrell": "https://www.merrell.com/",
    "Scarpa": "https://www.scarpa.com/",
    "Lowa": "https://www.lowa.com/",
    "Arc'teryx": "https://arcteryx.com/",
    "Patagonia": "https://www.patagonia.com/",
    "Rab": "https://rab.equipment/",
    "Mountain Hardwear": "https://www.mountainhardwear.com/",
    "MSR": "https://www.msrgear.com/",
    "Big Agnes": "https://www.bigagnes.com/",
    "Nemo": "https://www.nemoequipment.com/",
    "Zpacks": "https://zpacks.com/",
    "Western Mountaineering": "https://www.westernmountaineering.com/",
    "Therm-a-Rest": "https://www.thermarest.com/",
    "Smartwool": "https://www.smartwool.com/",
    "Icebreaker": "https://www.icebreaker.com/",
    "Ortovox": "https://www.ortovox.com/",
    "Black Diamond": "https://www.blackdiamondequipment.com/",
    "Leki": "https://www.leki.com/",
    "Komperdell": "https://www.komperdell.com/",
    "Osprey": "https://www.osprey.com/",
    "Gregory": "https://www.gregorypacks.com/",
    "Deuter": "https://www.deuter.com/",
    "Hyperlite": "https://www.hyperlitemountaingear.com/",
    "Petzl": "https://www.petzl.com/",
    "Nitecore": "https://flashlight.nitecore.com/",
    "Jetboil": "https://www.jetboil.com/",
    "Soto": "https://sotooutdoors.com/",
    "Primus": "https://www.primus.eu/",
}


@dataclass(frozen=True)
class Place:
    name: str
    region: str
    route: str  # a trail or route there
    town: str


PLACES = (
    Place("the Alps", "France and Switzerland", "the Tour du Mont Blanc", "Chamonix"),
    Place("the Scottish Highlands", "Scotland", "the West Highland Way", "Fort William"),
    Place("the Dolomites", "northern Italy", "the Alta Via 1", "Cortina d'Ampezzo"),
    Place("the Pacific Crest Trail", "California, Oregon and Washington", "the Sierra section", "Kennedy Meadows"),
    Place("the Lake District", "Cumbria", "the Coledale Horseshoe", "Keswick"),
    Place("Yosemite", "California", "the John Muir Trail", "Yosemite Valley"),
    Place("the Pyrenees", "France and Spain", "the GR10", "Cauterets"),
    Place("Patagonia", "Chile and Argentina", "the W Trek", "Puerto Natales"),
    Place("the Rocky Mountains", "Colorado", "the Colorado Trail", "Durango"),
    Place("Snowdonia", "Wales", "the Snowdon Horseshoe", "Betws-y-Coed"),
    Place("the Julian Alps", "Slovenia", "the Juliana Trail", "Bovec"),
    Place("Iceland", "the south highlands", "the Laugavegur Trail", "Landmannalaugar"),
)

SEASONS = ("Spring", "Summer", "Autumn", "Winter")

# trip reports and buying guides: {place}, {route}, {town}, {season} are filled in per article
ARTICLE_TITLES = (
    "Hiking {route}: A Week in {place_title}",
    "What to Pack for {route} in {season}",
    "Trail Running in {place_title}: Routes from {town}",
    "Wild Camping in {place_title}: A {season} Guide",
    "{route} on a Budget: Gear, Huts and Food",
    "Our Team's {season} Gear List for {place_title}",
    "{route} in {season}: Conditions, Crowds and Kit",
    "A {season} Weekend in {town}",
)

# the buying guides at /guides/: (slug, title, keyword, category slug the guide is about)
GUIDES = (
    ("how-to-choose-a-sleeping-bag", "How to Choose a Sleeping Bag", "how to choose a sleeping bag", "sleeping-bags"),
    ("how-to-layer-for-hiking", "How to Layer for Hiking", "how to layer for hiking", "base-layers"),
    ("how-to-choose-trail-running-shoes", "How to Choose Trail Running Shoes", "how to choose trail running shoes",
     "trail-running-shoes"),
    ("how-to-fit-a-backpack", "How to Fit a Backpack", "how to fit a backpack", "backpacks"),
    ("how-to-use-trekking-poles", "How to Use Trekking Poles", "how to use trekking poles", "trekking-poles"),
    ("how-to-waterproof-a-jacket", "How to Re-Waterproof a Jacket", "how to waterproof a jacket", "hiking-jackets"),
    ("how-to-pitch-a-tent-in-wind", "How to Pitch a Tent in Wind", "how to pitch a tent in wind", "tents"),
)  # fmt: skip
