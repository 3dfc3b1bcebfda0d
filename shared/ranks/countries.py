"""Countries and devices as each side names them: ISO 3166 alpha-2 and alpha-3, DataForSEO location codes.

Keywords and projects store a country as ISO 3166 alpha-2 (``US``); Search Console reports alpha-3 in
lower case (``usa``); DataForSEO wants a location code, which for a whole country is ``2000 + ISO 3166
numeric`` (the Google Ads geo target id: US 2840, GB 2826, DE 2276). The table holds the countries
Kestrel's customers search from (every country Search Console reports in the local stand-in, and more);
a country missing here is refused by name rather than guessed.

Devices: DataForSEO checks ``desktop`` or ``mobile``; Search Console reports ``DESKTOP``, ``MOBILE`` and
``TABLET``. A rank checked on mobile is compared with Search Console's MOBILE rows, desktop with DESKTOP;
tablets have no DataForSEO SERP of their own.
"""

from dataclasses import dataclass
from typing import Literal

DataForSeoDevice = Literal["desktop", "mobile"]
SearchConsoleDevice = Literal["DESKTOP", "MOBILE", "TABLET"]

SEARCH_CONSOLE_DEVICES: tuple[SearchConsoleDevice, ...] = ("DESKTOP", "MOBILE", "TABLET")
# Search Console's row for a country it cannot place (the stand-in reports it too).
UNKNOWN_SEARCH_CONSOLE_COUNTRY = "zzz"


@dataclass(frozen=True)
class Country:
    alpha2: str  # "US"
    alpha3: str  # "USA"
    numeric: int  # 840
    name: str

    @property
    def location_code(self) -> int:
        """DataForSEO's location code of the whole country."""
        return 2000 + self.numeric

    @property
    def search_console_code(self) -> str:
        """The country as Search Console reports it: alpha-3, lower case."""
        return self.alpha3.lower()


# (alpha-2, alpha-3, ISO 3166 numeric, name)
_TABLE: tuple[tuple[str, str, int, str], ...] = (
    ("AE", "ARE", 784, "United Arab Emirates"),
    ("AR", "ARG", 32, "Argentina"),
    ("AT", "AUT", 40, "Austria"),
    ("AU", "AUS", 36, "Australia"),
    ("BD", "BGD", 50, "Bangladesh"),
    ("BE", "BEL", 56, "Belgium"),
    ("BG", "BGR", 100, "Bulgaria"),
    ("BR", "BRA", 76, "Brazil"),
    ("CA", "CAN", 124, "Canada"),
    ("CH", "CHE", 756, "Switzerland"),
    ("CL", "CHL", 152, "Chile"),
    ("CN", "CHN", 156, "China"),
    ("CO", "COL", 170, "Colombia"),
    ("CY", "CYP", 196, "Cyprus"),
    ("CZ", "CZE", 203, "Czechia"),
    ("DE", "DEU", 276, "Germany"),
    ("DK", "DNK", 208, "Denmark"),
    ("EE", "EST", 233, "Estonia"),
    ("EG", "EGY", 818, "Egypt"),
    ("ES", "ESP", 724, "Spain"),
    ("FI", "FIN", 246, "Finland"),
    ("FR", "FRA", 250, "France"),
    ("GB", "GBR", 826, "United Kingdom"),
    ("GR", "GRC", 300, "Greece"),
    ("HK", "HKG", 344, "Hong Kong"),
    ("HR", "HRV", 191, "Croatia"),
    ("HU", "HUN", 348, "Hungary"),
    ("ID", "IDN", 360, "Indonesia"),
    ("IE", "IRL", 372, "Ireland"),
    ("IL", "ISR", 376, "Israel"),
    ("IN", "IND", 356, "India"),
    ("IS", "ISL", 352, "Iceland"),
    ("IT", "ITA", 380, "Italy"),
    ("JP", "JPN", 392, "Japan"),
    ("KE", "KEN", 404, "Kenya"),
    ("KR", "KOR", 410, "South Korea"),
    ("LT", "LTU", 440, "Lithuania"),
    ("LU", "LUX", 442, "Luxembourg"),
    ("LV", "LVA", 428, "Latvia"),
    ("MA", "MAR", 504, "Morocco"),
    ("MT", "MLT", 470, "Malta"),
    ("MX", "MEX", 484, "Mexico"),
    ("MY", "MYS", 458, "Malaysia"),
    ("NG", "NGA", 566, "Nigeria"),
    ("NL", "NLD", 528, "Netherlands"),
    ("NO", "NOR", 578, "Norway"),
    ("NZ", "NZL", 554, "New Zealand"),
    ("PE", "PER", 604, "Peru"),
    ("PH", "PHL", 608, "Philippines"),
    ("PK", "PAK", 586, "Pakistan"),
    ("PL", "POL", 616, "Poland"),
    ("PT", "PRT", 620, "Portugal"),
    ("RO", "ROU", 642, "Romania"),
    ("RS", "SRB", 688, "Serbia"),
    ("SA", "SAU", 682, "Saudi Arabia"),
    ("SE", "SWE", 752, "Sweden"),
    ("SG", "SGP", 702, "Singapore"),
    ("SI", "SVN", 705, "Slovenia"),
    ("SK", "SVK", 703, "Slovakia"),
    ("TH", "THA", 764, "Thailand"),
    ("TR", "TUR", 792, "Turkey"),
    ("TW", "TWN", 158, "Taiwan"),
    ("UA", "UKR", 804, "Ukraine"),
    ("US", "USA", 840, "United States"),
    ("VN", "VNM", 704, "Vietnam"),
    ("ZA", "ZAF", 710, "South Africa"),
)

COUNTRIES: tuple[Country, ...] = tuple(Country(a2, a3, numeric, name) for a2, a3, numeric, name in _TABLE)
_BY_ALPHA2 = {country.alpha2: country for country in COUNTRIES}
_BY_ALPHA3 = {country.alpha3: country for country in COUNTRIES}
_BY_LOCATION = {country.location_code: country for country in COUNTRIES}


class UnknownCountry(ValueError):
    """A country code the table does not hold."""


def by_alpha2(code: str) -> Country:
    """``US`` or ``us`` → the country; ``UnknownCountry`` otherwise."""
    try:
        return _BY_ALPHA2[code.strip().upper()]
    except KeyError:
        raise UnknownCountry(f"Unknown country code {code!r} (ISO 3166 alpha-2 expected, e.g. US).") from None


def by_alpha3(code: str) -> Country:
    """``USA`` or Search Console's ``usa`` → the country; ``UnknownCountry`` otherwise (Search Console's ``zzz``)."""
    try:
        return _BY_ALPHA3[code.strip().upper()]
    except KeyError:
        raise UnknownCountry(f"Unknown country code {code!r} (ISO 3166 alpha-3 expected, e.g. USA).") from None


def by_location_code(location_code: int) -> Country:
    """DataForSEO's country location code (2840) → the country; ``UnknownCountry`` for any other location."""
    try:
        return _BY_LOCATION[location_code]
    except KeyError:
        raise UnknownCountry(f"Location code {location_code} is not a country Kestrel knows.") from None


def location_code(alpha2: str) -> int:
    """The DataForSEO location code of a country given as alpha-2: ``location_code("GB") == 2826``."""
    return by_alpha2(alpha2).location_code


def search_console_country(alpha2: str) -> str:
    """The country as Search Console's rows name it: ``search_console_country("US") == "usa"``."""
    return by_alpha2(alpha2).search_console_code


def search_console_device(device: DataForSeoDevice) -> SearchConsoleDevice:
    """``desktop`` → ``DESKTOP``, ``mobile`` → ``MOBILE``: the Search Console rows a checked SERP compares with."""
    return "MOBILE" if device == "mobile" else "DESKTOP"


def dataforseo_device(device: str) -> DataForSeoDevice:
    """A Search Console device (any case) → the SERP to check: tablets see the mobile results."""
    upper = device.strip().upper()
    if upper not in SEARCH_CONSOLE_DEVICES:
        raise ValueError(f"Unknown Search Console device {device!r} (DESKTOP, MOBILE or TABLET).")
    return "desktop" if upper == "DESKTOP" else "mobile"
