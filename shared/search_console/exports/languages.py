"""The Search Console UI's words in each language it exports in: data, one table per language.

The UI writes an export in its user's language: the file names in the zip, each report's
header (its key column, then Clicks, Impressions, CTR, Position), Filters.csv's header and
labels, the search type and the date range. Each table below lists those words as the UI
writes them and cites where they were taken from, beside it: a real export found in a public
repository (named ``owner/repo: path``), or Google's Search Console Help in that language
(``support.google.com/webmasters/...?hl=xx``). Where a label could not be confirmed from either,
it is listed in the table's ``unconfirmed`` (with the help page's wording preferred); a header
that uses none of a table's words is rejected naming the header found, so an unconfirmed label
can only fail loudly, never misread a file.

Every label is compared normalised (``csv_text.normalised``: lower case, single spaces). Numbers
are read by ``numbers.NumberReader`` whatever the language; a language's ``decimal`` is only the
separator its spreadsheets write, used for a value whose shape proves none when nothing else in
the file does (Search Console itself writes "12.5%" and "3.4" in every language, as the real
exports cited below show; a file re-saved by a spreadsheet in that language writes "12,5 %").

Kinds: reports are ``queries``, ``pages``, ``countries``, ``devices``, ``search_appearance``,
``dates``; metrics ``clicks``, ``impressions``, ``ctr``, ``position``; Filters.csv labels
``search type``, ``date`` and the dimension filters ``query``, ``page``, ``country``, ``device``,
``search appearance``; date ranges the UI's presets, by their English name.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from shared.search_console.models import SearchType

REPORTS = ("queries", "pages", "countries", "devices", "search_appearance", "dates")
METRICS = ("clicks", "impressions", "ctr", "position")
FILTER_KINDS = ("search type", "date", "query", "page", "country", "device", "search appearance")
DIMENSION_FILTERS = frozenset({"query", "page", "country", "device", "search appearance"})
DATE_PRESETS = (
    "last 24 hours",
    "last 7 days",
    "last 28 days",
    "last 3 months",
    "last 6 months",
    "last 12 months",
    "last 16 months",
)

type Labels = Mapping[str, tuple[str, ...]]


@dataclass(frozen=True)
class Language:
    code: str
    name: str
    sources: tuple[str, ...]
    reports: Labels  # report -> its key column's labels
    metrics: Labels  # metric -> its column's labels
    files: Labels  # report, or "filters" -> the file's name in the zip, without ".csv"
    filter_header: tuple[str, str]  # Filters.csv's two column labels
    filters: Labels  # filter kind -> Filters.csv's label
    search_types: Mapping[SearchType, tuple[str, ...]]
    date_presets: Labels  # English preset name -> the Date filter's value
    comparison: tuple[str, ...]  # a word that marks a Date filter comparing two ranges (matched in its value)
    decimal: str | None  # the decimal separator the language's spreadsheets write; None: the point, or unknown
    unconfirmed: tuple[str, ...] = ()  # labels no source confirmed (the help page's wording preferred)
    # The month names a custom range is written with ("27 juil. 2026-9 août 2026"), January first: CLDR's
    # abbreviated and wide names for the locale, which the UI formats dates with. Empty: numeric dates only.
    months: tuple[tuple[str, ...], ...] = ()


# ---------------------------------------------------------------- English
# Sources: real exports quoted in the existing fixtures (tests/support/gsc_exports.py: Queries.csv
# "Top queries,Clicks,Impressions,CTR,Position", Filters.csv "Filter,Value / Search type,Web /
# Date,Last 3 months"); https://support.google.com/webmasters/answer/7576553?hl=en (the Performance
# report: Queries, Pages, Countries, Devices, Search appearance, Dates tabs; search types Web, Image,
# Video, News; date presets; Compare). Older exports named the dates file Chart.csv.
ENGLISH = Language(
    code="en",
    name="English",
    sources=(
        "tests/support/gsc_exports.py (real UI export headers)",
        "https://support.google.com/webmasters/answer/7576553?hl=en",
    ),
    reports={
        "queries": ("Top queries", "Queries", "Query"),
        "pages": ("Top pages", "Pages", "Page"),
        "countries": ("Country", "Countries"),
        "devices": ("Device", "Devices"),
        "search_appearance": ("Search Appearance",),
        "dates": ("Date", "Dates"),
    },
    metrics={
        "clicks": ("Clicks",),
        "impressions": ("Impressions",),
        "ctr": ("CTR",),
        "position": ("Position", "Average position", "Avg. position"),
    },
    files={
        "queries": ("Queries",),
        "pages": ("Pages",),
        "countries": ("Countries",),
        "devices": ("Devices",),
        "search_appearance": ("Search appearance",),
        "dates": ("Dates", "Chart"),
        "filters": ("Filters",),
    },
    filter_header=("Filter", "Value"),
    filters={
        "search type": ("Search type",),
        "date": ("Date", "Date range"),
        "query": ("Query",),
        "page": ("Page",),
        "country": ("Country",),
        "device": ("Device",),
        "search appearance": ("Search appearance",),
    },
    search_types={
        "web": ("Web",),
        "image": ("Image", "Images"),
        "video": ("Video", "Videos"),
        "news": ("News",),
        "discover": ("Discover",),
        "googleNews": ("Google News", "GoogleNews"),
    },
    date_presets={preset: (preset,) for preset in DATE_PRESETS},
    comparison=("compar",),
    decimal=None,
    unconfirmed=("Date range (quoted by a repository as a Filters.csv label)",),
)

# ---------------------------------------------------------------- German
# Sources: https://support.google.com/webmasters/answer/7576553?hl=de (Leistungsbericht: "Klicks",
# "Impressionen", "Klickrate (Click-through-Rate, CTR)", "Position", default range "in den letzten
# drei Monaten", button "Exportieren"); https://support.google.com/webmasters/answer/10268906?hl=de
# (filter "nach ... Land und Datum"); https://support.google.com/webmasters/answer/6155685?hl=de
# (option "Vergleichen"); https://developers.google.com/search/blog/2022/10/performance-data-deep-dive?hl=de
# (dimensions "Suchanfragen, Seiten, Länder, Geräte oder Darstellungen in der Suche").
# File names: repositories' notes on their own German exports list Diagramm.csv, Suchanfragen.csv,
# Seiten.csv, Länder.csv, Geräte.csv, "Darstellung in der Suche.csv" and Filter.csv (one quotes its
# Filter.csv's date as "Letzte 12 Monate"). No German export's content was found: the key columns
# "Häufigste Suchanfragen" and "Häufigste Seiten" are how third-party parsers quote the German export
# (unconfirmed); the help page's tab names are accepted beside them.
GERMAN = Language(
    code="de",
    name="German",
    sources=(
        "https://support.google.com/webmasters/answer/7576553?hl=de",
        "https://support.google.com/webmasters/answer/10268906?hl=de",
        "https://support.google.com/webmasters/answer/6155685?hl=de",
        "https://developers.google.com/search/blog/2022/10/performance-data-deep-dive?hl=de",
    ),
    reports={
        "queries": ("Häufigste Suchanfragen", "Suchanfragen"),
        "pages": ("Häufigste Seiten", "Seiten"),
        "countries": ("Land", "Länder"),
        "devices": ("Gerät", "Geräte"),
        "search_appearance": ("Darstellung in der Suche",),
        "dates": ("Datum",),
    },
    metrics={
        "clicks": ("Klicks",),
        "impressions": ("Impressionen",),
        "ctr": ("CTR", "Klickrate"),
        "position": ("Position", "Durchschnittliche Position"),
    },
    files={
        "queries": ("Suchanfragen",),
        "pages": ("Seiten",),
        "countries": ("Länder",),
        "devices": ("Geräte",),
        "search_appearance": ("Darstellung in der Suche",),
        "dates": ("Diagramm",),
        "filters": ("Filter",),
    },
    filter_header=("Filter", "Wert"),
    filters={
        "search type": ("Suchtyp",),
        "date": ("Datum",),
        "query": ("Suchanfrage",),
        "page": ("Seite",),
        "country": ("Land",),
        "device": ("Gerät",),
        "search appearance": ("Darstellung in der Suche",),
    },
    search_types={
        "web": ("Web",),
        "image": ("Bild", "Bilder"),
        "video": ("Video", "Videos"),
        "news": ("News",),
        "discover": ("Discover",),
        "googleNews": ("Google News",),
    },
    date_presets={
        "last 24 hours": ("Letzte 24 Stunden",),
        "last 7 days": ("Letzte 7 Tage",),
        "last 28 days": ("Letzte 28 Tage",),
        "last 3 months": ("Letzte 3 Monate",),
        "last 6 months": ("Letzte 6 Monate",),
        "last 12 months": ("Letzte 12 Monate",),
        "last 16 months": ("Letzte 16 Monate",),
    },
    comparison=("vergleich",),
    decimal=",",
    unconfirmed=(
        "Häufigste Suchanfragen",
        "Häufigste Seiten",
        "Durchschnittliche Position",
        "Land, Gerät, Darstellung in der Suche, Datum as headers (the help page's words)",
        "Filter,Wert",
        "Suchtyp",
        "Bild/Bilder",
        "the Letzte ... presets but Letzte 12 Monate",
    ),
    months=(
        ("Jan", "Januar", "Jän", "Jänner"),
        ("Feb", "Februar"),
        ("März", "Mär", "Mrz"),
        ("Apr", "April"),
        ("Mai",),
        ("Juni", "Jun"),
        ("Juli", "Jul"),
        ("Aug", "August"),
        ("Sept", "Sep", "September"),
        ("Okt", "Oktober"),
        ("Nov", "November"),
        ("Dez", "Dezember"),
    ),
)

# ---------------------------------------------------------------- French
# Sources: real exports GAP028/michelin-seo-dashboard (Requêtes.csv "Requêtes les plus fréquentes,
# Clics,Impressions,CTR,Position"; Pays.csv "Pays"; Appareils.csv "Appareil"; "Apparence dans les
# résultats de recherche.csv" with that header; Dates.csv "Date") and Antho-352/pluscestsimple
# (Requêtes.csv, Pages.csv); https://support.google.com/webmasters/answer/7576553?hl=fr.
# Filters.csv "Filtre,Valeur / Type de recherche,Web / Date,Les 3 derniers mois" is quoted from an
# export in a repository's notes, and custom ranges such as "27 juil. 2026-9 août 2026" from other
# repositories' fixtures; neither was read from a file.
FRENCH = Language(
    code="fr",
    name="French",
    sources=(
        "GAP028/michelin-seo-dashboard: Requêtes.csv, Pays.csv, Appareils.csv, Dates.csv,"
        " Apparence dans les résultats de recherche.csv",
        "Antho-352/pluscestsimple: Requêtes.csv, Pages.csv",
        "https://support.google.com/webmasters/answer/7576553?hl=fr",
    ),
    reports={
        "queries": ("Requêtes les plus fréquentes",),
        "pages": ("Pages les plus populaires",),
        "countries": ("Pays",),
        "devices": ("Appareil",),
        "search_appearance": ("Apparence dans les résultats de recherche",),
        "dates": ("Date",),
    },
    metrics={
        "clicks": ("Clics",),
        "impressions": ("Impressions",),
        "ctr": ("CTR",),
        "position": ("Position",),
    },
    files={
        "queries": ("Requêtes",),
        "pages": ("Pages",),
        "countries": ("Pays",),
        "devices": ("Appareils",),
        "search_appearance": ("Apparence dans les résultats de recherche",),
        "dates": ("Dates", "Graphique"),
        "filters": ("Filtres",),
    },
    filter_header=("Filtre", "Valeur"),
    filters={
        "search type": ("Type de recherche",),
        "date": ("Date",),
        "query": ("Requête",),
        "page": ("Page",),
        "country": ("Pays",),
        "device": ("Appareil",),
        "search appearance": ("Apparence dans les résultats de recherche",),
    },
    search_types={
        "web": ("Web",),
        "image": ("Image", "Images"),
        "video": ("Vidéo", "Vidéos"),
        "news": ("Actualités",),
        "discover": ("Discover",),
        "googleNews": ("Google Actualités",),
    },
    date_presets={
        "last 24 hours": ("Les dernières 24 heures",),
        "last 7 days": ("Les 7 derniers jours",),
        "last 28 days": ("Les 28 derniers jours",),
        "last 3 months": ("Les 3 derniers mois",),
        "last 6 months": ("Les 6 derniers mois",),
        "last 12 months": ("Les 12 derniers mois",),
        "last 16 months": ("Les 16 derniers mois",),
    },
    comparison=("compar",),
    decimal=",",
    unconfirmed=(
        "Graphique",
        "Filtres",
        "the filter labels but Type de recherche and Date",
        "the search types but Web",
        "the presets but Les 3 derniers mois",
    ),
    months=(
        ("janv", "janvier"),
        ("févr", "février"),
        ("mars",),
        ("avr", "avril"),
        ("mai",),
        ("juin",),
        ("juil", "juillet"),
        ("août",),
        ("sept", "septembre"),
        ("oct", "octobre"),
        ("nov", "novembre"),
        ("déc", "décembre"),
    ),
)

# ---------------------------------------------------------------- Spanish
# Sources: real exports consmarbella/legalhelp-chile (Páginas.csv "Páginas principales,Clics,
# Impresiones,CTR,Posición"; Países.csv "País"; gsc-data/Dispositivos.csv "Dispositivo"; gsc-data/
# Gráfico.csv "Fecha"; gsc-data/Consultas.csv) and unzuetat/salariojusto (analisis/gsc-export-2026-06-28/
# filtros.csv "Filtrar,Valor / Tipo de búsqueda,Web / Fecha,Últimos 3 meses");
# https://support.google.com/webmasters/answer/7576553?hl=es. "Consultas principales" is how several
# repositories quote Consultas.csv's header.
SPANISH = Language(
    code="es",
    name="Spanish",
    sources=(
        "consmarbella/legalhelp-chile: Páginas.csv, Países.csv, gsc-data/Dispositivos.csv, gsc-data/Gráfico.csv",
        "unzuetat/salariojusto: analisis/gsc-export-2026-06-28/filtros.csv, dispositivos.csv",
        "https://support.google.com/webmasters/answer/7576553?hl=es",
    ),
    reports={
        "queries": ("Consultas principales",),
        "pages": ("Páginas principales",),
        "countries": ("País",),
        "devices": ("Dispositivo",),
        "search_appearance": ("Aspecto de búsqueda",),
        "dates": ("Fecha",),
    },
    metrics={
        "clicks": ("Clics",),
        "impressions": ("Impresiones",),
        "ctr": ("CTR",),
        "position": ("Posición",),
    },
    files={
        "queries": ("Consultas",),
        "pages": ("Páginas",),
        "countries": ("Países",),
        "devices": ("Dispositivos",),
        "search_appearance": ("Aspecto de búsqueda",),
        "dates": ("Gráfico",),
        "filters": ("Filtros",),
    },
    filter_header=("Filtrar", "Valor"),
    filters={
        "search type": ("Tipo de búsqueda",),
        "date": ("Fecha",),
        "query": ("Consulta",),
        "page": ("Página",),
        "country": ("País",),
        "device": ("Dispositivo",),
        "search appearance": ("Aspecto de búsqueda",),
    },
    search_types={
        "web": ("Web",),
        "image": ("Imagen", "Imágenes"),
        "video": ("Vídeo", "Vídeos", "Video", "Videos"),
        "news": ("Noticias",),
        "discover": ("Discover",),
        "googleNews": ("Google Noticias",),
    },
    date_presets={
        "last 24 hours": ("Últimas 24 horas",),
        "last 7 days": ("Últimos 7 días",),
        "last 28 days": ("Últimos 28 días",),
        "last 3 months": ("Últimos 3 meses",),
        "last 6 months": ("Últimos 6 meses",),
        "last 12 months": ("Últimos 12 meses",),
        "last 16 months": ("Últimos 16 meses",),
    },
    comparison=("compar",),
    decimal=",",
    unconfirmed=(
        "Consultas principales (quoted by repositories; their Consultas.csv was not read)",
        "Aspecto de búsqueda (header and file name)",
        "Filtros (file name)",
        "the dimension filter labels",
        "the search types but Web",
        "the presets but Últimos 3 meses",
    ),
    months=(
        ("ene", "enero"),
        ("feb", "febrero"),
        ("mar", "marzo"),
        ("abr", "abril"),
        ("may", "mayo"),
        ("jun", "junio"),
        ("jul", "julio"),
        ("ago", "agosto"),
        ("sept", "sep", "septiembre"),
        ("oct", "octubre"),
        ("nov", "noviembre"),
        ("dic", "diciembre"),
    ),
)

# ---------------------------------------------------------------- Italian
# Sources: https://support.google.com/webmasters/answer/7576553?hl=it (Rapporto sul rendimento: tab
# "QUERY", "fino a 1000 query principali", "clic", "impressioni", "CTR", "posizione", "negli ultimi tre
# mesi", button "Confronta"); https://developers.google.com/search/blog/2022/10/performance-data-deep-dive?hl=it
# (dimensions "query, pagine, paesi, dispositivi o aspetti nella ricerca"). No Italian export's file was
# found: two repositories reading Italian exports ("GSC Italia") map the columns "Query più frequenti",
# "Pagine principali", "Paese", "Dispositivo", "Data", "Clic", "Impressioni", "CTR", "Posizione", and one
# asks for the files Query.csv, Pagine.csv, Grafico.csv, Paesi.csv, Dispositivi.csv (unconfirmed by a
# file; the help page's "Query principali" is accepted beside them).
ITALIAN = Language(
    code="it",
    name="Italian",
    sources=(
        "https://support.google.com/webmasters/answer/7576553?hl=it",
        "https://developers.google.com/search/blog/2022/10/performance-data-deep-dive?hl=it",
    ),
    reports={
        "queries": ("Query più frequenti", "Query principali"),
        "pages": ("Pagine principali",),
        "countries": ("Paese",),
        "devices": ("Dispositivo",),
        "search_appearance": ("Aspetto nella ricerca",),
        "dates": ("Data",),
    },
    metrics={
        "clicks": ("Clic",),
        "impressions": ("Impressioni",),
        "ctr": ("CTR",),
        "position": ("Posizione",),
    },
    files={
        "queries": ("Query",),
        "pages": ("Pagine",),
        "countries": ("Paesi",),
        "devices": ("Dispositivi",),
        "search_appearance": ("Aspetto nella ricerca",),
        "dates": ("Grafico",),
        "filters": ("Filtri",),
    },
    filter_header=("Filtro", "Valore"),
    filters={
        "search type": ("Tipo di ricerca",),
        "date": ("Data",),
        "query": ("Query",),
        "page": ("Pagina",),
        "country": ("Paese",),
        "device": ("Dispositivo",),
        "search appearance": ("Aspetto nella ricerca",),
    },
    search_types={
        "web": ("Web",),
        "image": ("Immagine", "Immagini"),
        "video": ("Video",),
        "news": ("Notizie",),
        "discover": ("Discover",),
        "googleNews": ("Google News",),
    },
    date_presets={
        "last 24 hours": ("Ultime 24 ore",),
        "last 7 days": ("Ultimi 7 giorni",),
        "last 28 days": ("Ultimi 28 giorni",),
        "last 3 months": ("Ultimi 3 mesi",),
        "last 6 months": ("Ultimi 6 mesi",),
        "last 12 months": ("Ultimi 12 mesi",),
        "last 16 months": ("Ultimi 16 mesi",),
    },
    comparison=("confront",),
    decimal=",",
    unconfirmed=(
        "every header (quoted by repositories reading Italian exports, not read from a file)",
        "Aspetto nella ricerca (the help page's words)",
        "every file name",
        "Filtro,Valore",
        "Tipo di ricerca",
        "the search types but Web",
        "the Ultimi ... presets",
    ),
    months=(
        ("gen", "gennaio"),
        ("feb", "febbraio"),
        ("mar", "marzo"),
        ("apr", "aprile"),
        ("mag", "maggio"),
        ("giu", "giugno"),
        ("lug", "luglio"),
        ("ago", "agosto"),
        ("set", "settembre"),
        ("ott", "ottobre"),
        ("nov", "novembre"),
        ("dic", "dicembre"),
    ),
)

# ---------------------------------------------------------------- Portuguese
# Sources: a repository's notes on its own exports (European Portuguese, files consultas.csv
# "Principais consultas,Cliques,Impressões,CTR,Posição", paginas.csv "Páginas mais visitadas",
# paises.csv "País", grafico.csv "Data", and Dispositivos, Aspeto da pesquisa, Filtros);
# https://support.google.com/webmasters/answer/7576553?hl=pt-BR and ?hl=pt-PT. Brazilian Portuguese
# headers were not found in a real export: "Consultas principais" and "Páginas principais" (quoted by
# repositories) are accepted and unconfirmed.
PORTUGUESE = Language(
    code="pt",
    name="Portuguese",
    sources=(
        "a repository's notes quoting its exports (grafico.csv, consultas.csv, paginas.csv, paises.csv)",
        "https://support.google.com/webmasters/answer/7576553?hl=pt-BR",
        "https://support.google.com/webmasters/answer/7576553?hl=pt-PT",
    ),
    reports={
        "queries": ("Principais consultas", "Consultas principais"),
        "pages": ("Páginas mais visitadas", "Páginas principais"),
        "countries": ("País",),
        "devices": ("Dispositivo",),
        "search_appearance": ("Aspeto da pesquisa", "Aparência da pesquisa"),
        "dates": ("Data",),
    },
    metrics={
        "clicks": ("Cliques",),
        "impressions": ("Impressões",),
        "ctr": ("CTR",),
        "position": ("Posição",),
    },
    files={
        "queries": ("Consultas",),
        "pages": ("Páginas",),
        "countries": ("Países",),
        "devices": ("Dispositivos",),
        "search_appearance": ("Aspeto da pesquisa", "Aparência da pesquisa"),
        "dates": ("Gráfico",),
        "filters": ("Filtros",),
    },
    filter_header=("Filtro", "Valor"),
    filters={
        "search type": ("Tipo de pesquisa",),
        "date": ("Data",),
        "query": ("Consulta",),
        "page": ("Página",),
        "country": ("País",),
        "device": ("Dispositivo",),
        "search appearance": ("Aspeto da pesquisa", "Aparência da pesquisa"),
    },
    search_types={
        "web": ("Web",),
        "image": ("Imagem", "Imagens"),
        "video": ("Vídeo", "Vídeos"),
        "news": ("Notícias",),
        "discover": ("Discover",),
        "googleNews": ("Google Notícias",),
    },
    date_presets={
        "last 24 hours": ("Últimas 24 horas",),
        "last 7 days": ("Últimos 7 dias",),
        "last 28 days": ("Últimos 28 dias",),
        "last 3 months": ("Últimos 3 meses",),
        "last 6 months": ("Últimos 6 meses",),
        "last 12 months": ("Últimos 12 meses",),
        "last 16 months": ("Últimos 16 meses",),
    },
    comparison=("compar",),
    decimal=",",
    unconfirmed=(
        "Consultas principais",
        "Páginas principais",
        "Dispositivo",
        "Aspeto da pesquisa and Aparência da pesquisa as headers",
        "Filtro,Valor",
        "every filter label",
        "the search types but Web",
        "every preset",
    ),
    months=(
        ("jan", "janeiro"),
        ("fev", "fevereiro"),
        ("mar", "março"),
        ("abr", "abril"),
        ("mai", "maio"),
        ("jun", "junho"),
        ("jul", "julho"),
        ("ago", "agosto"),
        ("set", "setembro"),
        ("out", "outubro"),
        ("nov", "novembro"),
        ("dez", "dezembro"),
    ),
)

# ---------------------------------------------------------------- Dutch
# Sources: real exports dynique-agency/newdynique (docs/seo/data/gsc-export-2026-09-08/: Filters.csv
# "Filter,Waarde / Zoektype,Web / Datum,Afgelopen 6 maanden"; Apparaten.csv "Apparaat,Aantal klikken,
# Vertoningen,CTR,Positie"; Diagram.csv "Datum"; Landen.csv "Land"; Zoekopdrachten.csv, Paginas.csv);
# another repository's notes on its export (files Zoekopdrachten, Diagram, Landen, Apparaten, Paginas,
# Filters, Zoekopmaak) and a script reading Dutch exports ("Meest uitgevoerde zoekopdrachten",
# "Toppagina's"); https://support.google.com/webmasters/answer/7576553?hl=nl;
# https://support.google.com/webmasters/answer/7042828?hl=nl ("klikken", "vertoningen", "positie").
DUTCH = Language(
    code="nl",
    name="Dutch",
    sources=(
        "dynique-agency/newdynique: docs/seo/data/gsc-export-2026-09-08/ (Filters.csv, Apparaten.csv,"
        " Diagram.csv, Landen.csv, Zoekopdrachten.csv, Paginas.csv)",
        "https://support.google.com/webmasters/answer/7576553?hl=nl",
        "https://support.google.com/webmasters/answer/7042828?hl=nl",
    ),
    reports={
        "queries": ("Meest uitgevoerde zoekopdrachten", "Zoekopdrachten"),
        "pages": ("Toppagina's", "Pagina's"),
        "countries": ("Land",),
        "devices": ("Apparaat",),
        "search_appearance": ("Zoekopmaak",),
        "dates": ("Datum",),
    },
    metrics={
        "clicks": ("Aantal klikken", "Klikken"),
        "impressions": ("Vertoningen",),
        "ctr": ("CTR",),
        "position": ("Positie",),
    },
    files={
        "queries": ("Zoekopdrachten",),
        "pages": ("Pagina's", "Paginas"),
        "countries": ("Landen",),
        "devices": ("Apparaten",),
        "search_appearance": ("Zoekopmaak",),
        "dates": ("Diagram",),
        "filters": ("Filters",),
    },
    filter_header=("Filter", "Waarde"),
    filters={
        "search type": ("Zoektype",),
        "date": ("Datum",),
        "query": ("Zoekopdracht",),
        "page": ("Pagina",),
        "country": ("Land",),
        "device": ("Apparaat",),
        "search appearance": ("Zoekopmaak",),
    },
    search_types={
        "web": ("Web",),
        "image": ("Afbeelding", "Afbeeldingen"),
        "video": ("Video", "Video's"),
        "news": ("Nieuws",),
        "discover": ("Discover",),
        "googleNews": ("Google Nieuws",),
    },
    date_presets={
        "last 24 hours": ("Afgelopen 24 uur",),
        "last 7 days": ("Afgelopen 7 dagen",),
        "last 28 days": ("Afgelopen 28 dagen",),
        "last 3 months": ("Afgelopen 3 maanden",),
        "last 6 months": ("Afgelopen 6 maanden",),
        "last 12 months": ("Afgelopen 12 maanden",),
        "last 16 months": ("Afgelopen 16 maanden",),
    },
    comparison=("vergelijk",),
    decimal=",",
    unconfirmed=(
        "Meest uitgevoerde zoekopdrachten and Toppagina's (quoted by a script, not read from a file)",
        "Zoekopmaak as a header",
        "Pagina's (the help page's word; a real zip held Paginas.csv)",
        "the dimension filter labels",
        "the search types but Web",
        "the presets but Afgelopen 6 maanden",
    ),
    months=(
        ("jan", "januari"),
        ("feb", "februari"),
        ("mrt", "maart"),
        ("apr", "april"),
        ("mei",),
        ("jun", "juni"),
        ("jul", "juli"),
        ("aug", "augustus"),
        ("sep", "sept", "september"),
        ("okt", "oktober"),
        ("nov", "november"),
        ("dec", "december"),
    ),
)

# ---------------------------------------------------------------- Polish
# Sources: https://support.google.com/webmasters/answer/7576553?hl=pl (Raport skuteczności:
# "kliknięcia", "wyświetlenia", "CTR", "pozycja", "z ostatnich 3 miesięcy", "wygląd w wyszukiwarce");
# https://support.google.com/webmasters/answer/9216516?hl=pl (filter "Data");
# https://support.google.com/webmasters/answer/7042828?hl=pl. A repository reading Polish exports builds
# its fixtures in their shape: Zapytania.csv "Najczęstsze zapytania,Kliknięcia,Wyświetlenia,CTR,Pozycja",
# Strony.csv "Najpopularniejsze strony", Kraje.csv "Kraj", Urządzenia.csv "Urządzenie", "Wygląd w
# wynikach wyszukiwania.csv" with that header, Daty.csv "Data", Filtry.csv "Filtr,Wartość / Typ
# wyszukiwania,Internet / Data,Ostatnie 28 dni" (not read from a real file: unconfirmed).
POLISH = Language(
    code="pl",
    name="Polish",
    sources=(
        "https://support.google.com/webmasters/answer/7576553?hl=pl",
        "https://support.google.com/webmasters/answer/9216516?hl=pl",
        "https://support.google.com/webmasters/answer/7042828?hl=pl",
        "a repository's Polish export fixtures in the shape of its real exports (Zapytania.csv, Strony.csv,"
        " Kraje.csv, Urządzenia.csv, Daty.csv, Filtry.csv)",
    ),
    reports={
        "queries": ("Najczęstsze zapytania", "Zapytania"),
        "pages": ("Najpopularniejsze strony", "Strony"),
        "countries": ("Kraj",),
        "devices": ("Urządzenie",),
        "search_appearance": ("Wygląd w wynikach wyszukiwania", "Wygląd w wyszukiwarce"),
        "dates": ("Data",),
    },
    metrics={
        "clicks": ("Kliknięcia",),
        "impressions": ("Wyświetlenia",),
        "ctr": ("CTR",),
        "position": ("Pozycja",),
    },
    files={
        "queries": ("Zapytania",),
        "pages": ("Strony",),
        "countries": ("Kraje",),
        "devices": ("Urządzenia",),
        "search_appearance": ("Wygląd w wynikach wyszukiwania",),
        "dates": ("Daty", "Wykres"),
        "filters": ("Filtry",),
    },
    filter_header=("Filtr", "Wartość"),
    filters={
        "search type": ("Typ wyszukiwania",),
        "date": ("Data",),
        "query": ("Zapytanie",),
        "page": ("Strona",),
        "country": ("Kraj",),
        "device": ("Urządzenie",),
        "search appearance": ("Wygląd w wynikach wyszukiwania", "Wygląd w wyszukiwarce"),
    },
    search_types={
        "web": ("Internet", "Wyniki internetowe", "Web"),
        "image": ("Grafika",),
        "video": ("Wideo",),
        "news": ("Wiadomości",),
        "discover": ("Discover",),
        "googleNews": ("Wiadomości Google",),
    },
    date_presets={
        "last 24 hours": ("Ostatnie 24 godziny",),
        "last 7 days": ("Ostatnie 7 dni",),
        "last 28 days": ("Ostatnie 28 dni",),
        "last 3 months": ("Ostatnie 3 miesiące",),
        "last 6 months": ("Ostatnie 6 miesięcy",),
        "last 12 months": ("Ostatnie 12 miesięcy",),
        "last 16 months": ("Ostatnie 16 miesięcy",),
    },
    comparison=("porówn",),
    decimal=",",
    unconfirmed=(
        "every header, file name and Filtry.csv row (seen in fixtures shaped like real exports, not in a file)",
        "Zapytania, Strony, Wygląd w wyszukiwarce (the help page's words)",
        "the dimension filter labels",
        "the search types but Internet",
        "the presets but Ostatnie 28 dni",
        "Wykres (the Page indexing export's chart file)",
    ),
    months=(
        ("sty", "stycznia", "styczeń"),
        ("lut", "lutego", "luty"),
        ("mar", "marca", "marzec"),
        ("kwi", "kwietnia", "kwiecień"),
        ("maj", "maja"),
        ("cze", "czerwca", "czerwiec"),
        ("lip", "lipca", "lipiec"),
        ("sie", "sierpnia", "sierpień"),
        ("wrz", "września", "wrzesień"),
        ("paź", "października", "październik"),
        ("lis", "listopada", "listopad"),
        ("gru", "grudnia", "grudzień"),
    ),
)

# ---------------------------------------------------------------- Japanese
# Sources: real exports calro999/qualia-navi (クエリ.csv "上位のクエリ,クリック数,表示回数,CTR,掲載順位";
# ページ.csv "上位のページ") and calro999/croud-travel (クエリ.csv);
# https://support.google.com/webmasters/answer/7576553?hl=ja. Filters "フィルタ,値 / 検索タイプ,ウェブ /
# 日付,過去 3 か月間", デバイス.csv "デバイス", 検索での見え方.csv and 日付 are quoted by repositories
# parsing Japanese exports, not read from a file.
JAPANESE = Language(
    code="ja",
    name="Japanese",
    sources=(
        "calro999/qualia-navi: クエリ.csv, ページ.csv",
        "calro999/croud-travel: クエリ.csv",
        "https://support.google.com/webmasters/answer/7576553?hl=ja",
    ),
    reports={
        "queries": ("上位のクエリ",),
        "pages": ("上位のページ",),
        "countries": ("国",),
        "devices": ("デバイス",),
        "search_appearance": ("検索での見え方",),
        "dates": ("日付",),
    },
    metrics={
        "clicks": ("クリック数",),
        "impressions": ("表示回数",),
        "ctr": ("CTR",),
        "position": ("掲載順位", "平均掲載順位"),
    },
    files={
        "queries": ("クエリ",),
        "pages": ("ページ",),
        "countries": ("国",),
        "devices": ("デバイス",),
        "search_appearance": ("検索での見え方",),
        "dates": ("日付", "グラフ"),
        "filters": ("フィルタ",),
    },
    filter_header=("フィルタ", "値"),
    filters={
        "search type": ("検索タイプ",),
        "date": ("日付", "期間"),
        "query": ("クエリ",),
        "page": ("ページ",),
        "country": ("国",),
        "device": ("デバイス",),
        "search appearance": ("検索での見え方",),
    },
    search_types={
        "web": ("ウェブ",),
        "image": ("画像",),
        "video": ("動画",),
        "news": ("ニュース",),
        "discover": ("Discover",),
        "googleNews": ("Google ニュース",),
    },
    date_presets={
        "last 24 hours": ("過去 24 時間",),
        "last 7 days": ("過去 7 日間",),
        "last 28 days": ("過去 28 日間",),
        "last 3 months": ("過去 3 か月間",),
        "last 6 months": ("過去 6 か月間",),
        "last 12 months": ("過去 12 か月間",),
        "last 16 months": ("過去 16 か月間",),
    },
    comparison=("比較",),
    decimal=None,
    unconfirmed=(
        "国",
        "デバイス",
        "検索での見え方",
        "日付",
        "every file name but クエリ and ページ",
        "the filter labels and values",
        "the presets",
    ),
)

# ---------------------------------------------------------------- Korean
# Sources: https://support.google.com/webmasters/answer/7576553?hl=ko (실적 보고서: "클릭수",
# "노출수", "CTR", "평균 게재순위"; tabs 검색어, 페이지, 국가, 기기, 검색 노출, 날짜). No Korean export's
# file was found, but several repositories' notes on their own exports agree: the zip holds 차트.csv,
# 검색어 수.csv, 페이지.csv, 국가.csv, 기기.csv, 필터.csv, with the columns 인기 검색어, 인기 페이지, 클릭수,
# 노출, CTR, 게재 순위 and 날짜; their fixtures write Filters.csv as "필터,값 / 검색 유형,웹 / 기간 (or
# 날짜),지난 24시간". The help page's wording is accepted beside them.
KOREAN = Language(
    code="ko",
    name="Korean",
    sources=("https://support.google.com/webmasters/answer/7576553?hl=ko",),
    reports={
        "queries": ("인기 검색어", "검색어"),
        "pages": ("인기 페이지", "페이지"),
        "countries": ("국가",),
        "devices": ("기기",),
        "search_appearance": ("검색 노출",),
        "dates": ("날짜",),
    },
    metrics={
        "clicks": ("클릭수",),
        "impressions": ("노출", "노출수"),
        "ctr": ("CTR", "클릭률"),
        "position": ("게재 순위", "게재순위", "평균 게재순위"),
    },
    files={
        "queries": ("검색어 수", "검색어"),
        "pages": ("페이지",),
        "countries": ("국가",),
        "devices": ("기기",),
        "search_appearance": ("검색 노출",),
        "dates": ("차트", "날짜"),
        "filters": ("필터",),
    },
    filter_header=("필터", "값"),
    filters={
        "search type": ("검색 유형",),
        "date": ("날짜", "기간"),
        "query": ("검색어",),
        "page": ("페이지",),
        "country": ("국가",),
        "device": ("기기",),
        "search appearance": ("검색 노출",),
    },
    search_types={
        "web": ("웹",),
        "image": ("이미지",),
        "video": ("동영상",),
        "news": ("뉴스",),
        "discover": ("Discover",),
        "googleNews": ("Google 뉴스",),
    },
    date_presets={
        "last 24 hours": ("지난 24시간",),
        "last 7 days": ("지난 7일",),
        "last 28 days": ("지난 28일",),
        "last 3 months": ("지난 3개월",),
        "last 6 months": ("지난 6개월",),
        "last 12 months": ("지난 12개월",),
        "last 16 months": ("지난 16개월",),
    },
    comparison=("비교",),
    decimal=None,
    unconfirmed=(
        "every header and file name (repositories' notes on their exports, not a file)",
        "국가, 기기, 검색 노출 as headers (the help page's words)",
        "필터,값, 검색 유형, 웹, 기간 (fixtures)",
        "the dimension filter labels",
        "the search types but 웹",
        "the presets but 지난 24시간",
    ),
)

# ---------------------------------------------------------------- Chinese
# Sources: soledadschiavo357-alt/X-GROK (图表.csv "日期,点击次数,展示,点击率,排名"; files 查询数.csv and
# 网页.csv); https://support.google.com/webmasters/answer/7576553?hl=zh-Hans (效果报告) and ?hl=zh-Hant;
# https://developers.google.com/search/blog/2022/10/performance-data-deep-dive?hl=zh-tw (Traditional:
# 點擊次數, 曝光次數, CTR, 排名; 查詢, 網頁, 國家/地區, 裝置, 搜尋外觀). Repositories' notes on their own
# exports list the files 查询数.csv, 国家_地区.csv, 过滤器.csv, 设备.csv, 搜索结果呈现.csv, 图表.csv and
# 网页.csv, and several read the columns 热门查询, 排名靠前的网页, 点击次数, 展示, 点击率, 排名 from them.
CHINESE = Language(
    code="zh",
    name="Chinese",
    sources=(
        "soledadschiavo357-alt/X-GROK: 图表.csv, 查询数.csv, 网页.csv",
        "https://support.google.com/webmasters/answer/7576553?hl=zh-Hans",
        "https://support.google.com/webmasters/answer/7576553?hl=zh-Hant",
        "https://developers.google.com/search/blog/2022/10/performance-data-deep-dive?hl=zh-tw",
    ),
    reports={
        "queries": ("热门查询", "查询", "熱門查詢", "查詢"),
        "pages": ("排名靠前的网页", "网页", "熱門網頁", "網頁"),
        "countries": ("国家/地区", "國家/地區"),
        "devices": ("设备", "裝置"),
        "search_appearance": ("搜索结果呈现", "搜尋外觀"),
        "dates": ("日期",),
    },
    metrics={
        "clicks": ("点击次数", "點擊次數"),
        "impressions": ("展示", "展示次数", "曝光次數"),
        "ctr": ("点击率", "CTR", "點閱率"),
        "position": ("排名", "平均排名"),
    },
    files={
        "queries": ("查询数", "查詢"),
        "pages": ("网页", "網頁"),
        "countries": ("国家_地区", "国家", "國家"),
        "devices": ("设备", "裝置"),
        "search_appearance": ("搜索结果呈现", "搜尋外觀"),
        "dates": ("图表", "日期", "圖表"),
        "filters": ("过滤器", "篩選器"),
    },
    filter_header=("过滤器", "值"),
    filters={
        "search type": ("搜索类型", "搜尋類型"),
        "date": ("日期",),
        "query": ("查询", "查詢"),
        "page": ("网页", "網頁"),
        "country": ("国家/地区", "國家/地區"),
        "device": ("设备", "裝置"),
        "search appearance": ("搜索结果呈现", "搜尋外觀"),
    },
    search_types={
        "web": ("网页", "網頁"),
        "image": ("图片", "圖片"),
        "video": ("视频", "影片"),
        "news": ("新闻", "新聞"),
        "discover": ("探索", "Discover"),
        "googleNews": ("Google 新闻", "Google 新聞"),
    },
    date_presets={
        "last 24 hours": ("过去 24 小时",),
        "last 7 days": ("过去 7 天",),
        "last 28 days": ("过去 28 天",),
        "last 3 months": ("过去 3 个月",),
        "last 6 months": ("过去 6 个月",),
        "last 12 months": ("过去 12 个月",),
        "last 16 months": ("过去 16 个月",),
    },
    comparison=("比较", "比較"),
    decimal=None,
    unconfirmed=(
        "热门查询 and 排名靠前的网页 (read by repositories, not seen in a file here)",
        "the Traditional Chinese labels (the help pages' words)",
        "国家/地区, 设备 and 搜索结果呈现 as headers",
        "过滤器,值 and every filter label and value",
        "every preset",
    ),
)

LANGUAGES: tuple[Language, ...] = (
    ENGLISH,
    GERMAN,
    FRENCH,
    SPANISH,
    ITALIAN,
    PORTUGUESE,
    DUTCH,
    POLISH,
    JAPANESE,
    KOREAN,
    CHINESE,
)


def _key(label: str) -> str:
    """A label as compared (the same rule as ``csv_text.normalised``)."""
    return " ".join(label.strip().lower().split())


def _index(pairs: Iterable[tuple[str, str, str]]) -> Mapping[str, tuple[str, frozenset[str]]]:
    """label -> (kind, languages); a label two languages give different kinds is a mistake in the tables."""
    kinds: dict[str, str] = {}
    languages: dict[str, set[str]] = {}
    for label, kind, code in pairs:
        key = _key(label)
        if kinds.setdefault(key, kind) != kind:
            raise ValueError(f"{label!r} is both {kinds[key]!r} and {kind!r} in the export language tables")
        languages.setdefault(key, set()).add(code)
    return MappingProxyType({key: (kinds[key], frozenset(languages[key])) for key in kinds})


def _pairs(field: str) -> Iterable[tuple[str, str, str]]:
    for language in LANGUAGES:
        table: Mapping[str, tuple[str, ...]] = getattr(language, field)
        for kind, labels in table.items():
            for label in labels:
                yield label, kind, language.code


KEY_COLUMNS = _index(_pairs("reports"))
METRIC_COLUMNS = _index(_pairs("metrics"))
FILE_NAMES = _index(_pairs("files"))
FILTER_LABELS = _index(_pairs("filters"))
SEARCH_TYPE_VALUES = _index(_pairs("search_types"))
DATE_PRESET_VALUES = _index(_pairs("date_presets"))


def _months() -> Mapping[str, int]:
    """Month name (normalised, without a trailing '.') -> its number, from every table."""
    pairs = (
        (name.rstrip("."), str(number), language.code)
        for language in LANGUAGES
        for number, names in enumerate(language.months, start=1)
        for name in names
    )
    return MappingProxyType({name: int(number) for name, (number, _) in _index(pairs).items()})


def _filter_headers() -> Mapping[tuple[str, str], frozenset[str]]:
    headers: dict[tuple[str, str], set[str]] = {}
    for language in LANGUAGES:
        header = (_key(language.filter_header[0]), _key(language.filter_header[1]))
        headers.setdefault(header, set()).add(language.code)
    return MappingProxyType({header: frozenset(codes) for header, codes in headers.items()})


FILTER_HEADERS = _filter_headers()
MONTH_NAMES = _months()
COMPARISON_WORDS: tuple[str, ...] = tuple(sorted({word for language in LANGUAGES for word in language.comparison}))
BY_CODE: Mapping[str, Language] = MappingProxyType({language.code: language for language in LANGUAGES})
HEADER_WORDS: frozenset[str] = (
    frozenset(KEY_COLUMNS) | frozenset(METRIC_COLUMNS) | frozenset(word for header in FILTER_HEADERS for word in header)
)
NAMES = ", ".join(language.name for language in LANGUAGES)


def decimal_of(codes: Iterable[str]) -> str | None:
    """The decimal separator the languages' spreadsheets agree on, or None."""
    separators = {BY_CODE[code].decimal for code in codes}
    return separators.pop() if len(separators) == 1 else None
