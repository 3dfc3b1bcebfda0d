"""Countries and devices as each side names them: ISO 3166 alpha-2 and alpha-3, DataForSEO location codes.

Keywords and projects store a country as ISO 3166 alpha-2 (``US``); Search Console reports alpha-3 in
lower case (``usa``); DataForSEO wants a location code, which for a whole country is ``2000 + ISO 3166
numeric`` (the Google Ads geo target id: US 2840, GB 2826, DE 2276). The table is ISO 3166-1 whole;
a code outside it is refused by name rather than guessed.

Devices: DataForSEO checks ``desktop`` or ``mobile``; Search Console reports ``DESKTOP``, ``MOBILE`` and
``TABLET``. A rank checked on mobile is compared with Search Console's MOBILE rows, desktop with DESKTOP;
tablets have no DataForSEO SERP of their own.
"""

from dataclasses import dataclass
from typing import Literal

import iso3166

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


# Every ISO 3166-1 country (the iso3166 package: the standard's table, 250 entries, no other dependency).
COUNTRIES: tuple[Country, ...] = tuple(
    Country(record.alpha2, record.alpha3, int(record.numeric), record.apolitical_name) for record in iso3166.countries
)
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
