"""Search Console UI exports in each UI language: exports built from the language tables, read back.

Every test builds its files from shared/search_console/exports/languages.py, so a language's table is
what is tested: its headers, file names, Filters.csv labels, search types and date presets, with the
number and date formats a spreadsheet in that language writes.
"""

import datetime as dt
import re

import pytest

from shared.errors import RejectedFile
from shared.search_console.exports import languages
from shared.search_console.exports.dates import date_range_in
from shared.search_console.exports.languages import LANGUAGES, Language
from shared.search_console.exports.numbers import NumberReader
from shared.search_console.exports.problems import ValueProblem
from shared.search_console.exports.ui import read_ui_export, ui_snapshots
from tests.support.gsc_exports import errors_by_line, ui_zip

REQUIRED = {"en", "de", "fr", "es", "it", "pt", "nl", "pl", "ja", "ko", "zh"}
NNBSP, NBSP = "\u202f", "\u00a0"
SOURCE = re.compile(r"^(https://(support|developers)\.google\.com/|[\w.-]+/[\w.-]+: |tests/|a repository)")


# How a spreadsheet in each language writes 1234, 12.34 %, 3.4 and 2024-03-13 (the export re-saved there):
# (thousands separator, decimal separator, space before %, the date of day {d} of March 2024).
NUMBER_FORMATS = {
    "en": (",", ".", "", "2024-03-{d}"),
    "de": (".", ",", " ", "{d}.03.2024"),
    "fr": (NNBSP, ",", NNBSP, "{d}/03/2024"),
    "es": (".", ",", NBSP, "{d}/03/2024"),
    "it": (".", ",", "", "{d}/03/2024"),
    "pt": (".", ",", "", "{d}/03/2024"),
    "nl": (".", ",", "", "{d}-3-2024"),
    "pl": (NBSP, ",", "", "{d}.03.2024"),
    "ja": (",", ".", "", "2024/03/{d}"),
    "ko": (",", ".", "", "2024. 3. {d}."),
    "zh": (",", ".", "", "2024年3月{d}日"),
}
# The rows every report of the fixture export holds: key, clicks, impressions, CTR %, position.
ROWS = [("a", 1234, 10000, "12.34", "3.4"), ("b", 56, 1200, "4.67", "12.5"), ("c", 0, 7, "0", "41.25")]
KEYS = {
    "queries": ["running shoes", "trail shoes, waterproof", "acme"],
    "pages": ["https://www.acme.com/", "https://www.acme.com/a/", "https://www.acme.com/b/"],
    "countries": ["Deutschland", "France", "日本"],
    "devices": ["Desktop", "Mobile", "Tablet"],
    "search_appearance": ["Videos", "Review snippet", "FAQ"],
}


def number(value: int | str, code: str) -> str:
    """``value`` as that language's spreadsheet writes it (thousands grouped, its decimal separator)."""
    thousands, decimal, _, _ = NUMBER_FORMATS[code]
    integer, _, fraction = str(value).partition(".")
    groups: list[str] = []
    while len(integer) > 3:
        groups.insert(0, integer[-3:])
        integer = integer[:-3]
    grouped = thousands.join([integer, *groups])
    return f"{grouped}{decimal}{fraction}" if fraction else grouped


def cell(text: str, delimiter: str) -> str:
    return f'"{text}"' if delimiter in text or '"' in text else text


def report_csv(language: Language, report: str, delimiter: str = ",") -> str:
    code = language.code
    _, _, percent_space, day = NUMBER_FORMATS[code]
    header = [language.reports[report][0], *(language.metrics[metric][0] for metric in languages.METRICS)]
    lines = [delimiter.join(cell(column, delimiter) for column in header)]
    for index, (_, clicks, impressions, ctr, position) in enumerate(ROWS):
        key = day.format(d=13 + index) if report == "dates" else KEYS[report][index]
        values = [key, number(clicks, code), number(impressions, code), f"{number(ctr, code)}{percent_space}%"]
        lines.append(delimiter.join(cell(value, delimiter) for value in [*values, number(position, code)]))
    return "\n".join(lines) + "\n"


def filters_csv(language: Language, *, search_type: str | None = None, date: str | None = None) -> str:
    rows = [
        language.filter_header,
        (language.filters["search type"][0], search_type or language.search_types["image"][0]),
        (language.filters["date"][0], date if date is not None else language.date_presets["last 3 months"][0]),
    ]
    return "".join(f"{cell(label, ',')},{cell(value, ',')}\n" for label, value in rows)


def language_zip(language: Language, *, delimiter: str = ",", filters: str | None = None) -> bytes:
    files = {
        f"{language.files[report][0]}.csv": report_csv(language, report, delimiter) for report in languages.REPORTS
    }
    files[f"{language.files['filters'][0]}.csv"] = filters if filters is not None else filters_csv(language)
    return ui_zip(files, folder=f"acme.com-Performance-on-Search-2024-04-02-{language.code}/")


def reason_of(content: bytes) -> str:
    with pytest.raises(RejectedFile) as rejected:
        read_ui_export(content)
    return rejected.value.reason


# ---------------------------------------------------------------- the tables themselves
def test_every_required_language_has_a_complete_table_with_its_sources():
    assert {language.code for language in LANGUAGES} == REQUIRED
    for language in LANGUAGES:
        assert set(language.reports) == set(languages.REPORTS), language.code
        assert set(language.metrics) == set(languages.METRICS), language.code
        assert set(language.files) == {*languages.REPORTS, "filters"}, language.code
        assert set(language.filters) == set(languages.FILTER_KINDS), language.code
        assert set(language.search_types) == {"web", "image", "video", "news", "discover", "googleNews"}
        assert set(language.date_presets) == set(languages.DATE_PRESETS), language.code
        assert language.comparison, language.code
        assert all(
            labels for table in (language.reports, language.metrics, language.files) for labels in table.values()
        )
        assert language.sources, language.code
        for source in language.sources:  # a help page in the language, or a repository's export
            assert re.match(
                r"^(https://(support|developers)\.google\.com/|[\w.-]+/[\w.-]+: |tests/|a repository)", source
            )
        assert any(f"hl={language.code}" in source for source in language.sources), language.code


def test_no_label_means_two_things():
    # languages._index raises at import if one label is given two kinds; check a few that several languages share.
    assert languages.KEY_COLUMNS["date"] == ("dates", frozenset({"en", "fr"}))
    assert languages.KEY_COLUMNS["data"][0] == "dates"
    assert languages.KEY_COLUMNS["land"][0] == "countries"
    assert languages.METRIC_COLUMNS["ctr"][0] == "ctr"
    assert languages.FILTER_LABELS["datum"][0] == "date"
    assert languages.FILE_NAMES["pages"] == ("pages", frozenset({"en", "fr"}))


# ---------------------------------------------------------------- each language's export, with its number formats
@pytest.mark.parametrize("language", LANGUAGES, ids=lambda language: language.code)
def test_each_languages_export_is_read_with_its_number_formats(language):
    delimiter = ";" if language.decimal == "," else ","  # Excel in a decimal-comma locale writes semicolons
    export = read_ui_export(language_zip(language, delimiter=delimiter))
    assert errors_by_line(export.errors) == {}
    assert export.files == 7
    assert sorted(export.reports) == sorted(languages.REPORTS)
    assert export.languages == {language.code}
    assert export.search_type == "image"
    assert export.date_preset == "last 3 months"
    for report in languages.REPORTS:
        rows = [row for row in export.rows if row.report == report]
        assert [(row.clicks, row.impressions, row.position) for row in rows] == [
            (1234, 10000, 3.4),
            (56, 1200, 12.5),
            (0, 7, 41.25),
        ], (report, language.code)
        assert rows[0].ctr == pytest.approx(0.1234)
    assert [row.key for row in export.rows if row.report == "dates"] == ["2024-03-13", "2024-03-14", "2024-03-15"]
    assert [row.key for row in export.rows if row.report == "queries"] == KEYS["queries"]
    snapshots = ui_snapshots(export, range_start=None, range_end=None, search_type=None)
    assert {(s.range_start, s.range_end, s.search_type) for s in snapshots if s.report == "pages"} == {
        (dt.date(2024, 3, 13), dt.date(2024, 3, 15), "image")
    }


@pytest.mark.parametrize("language", LANGUAGES, ids=lambda language: language.code)
def test_each_languages_single_csvs_are_recognised_by_their_header(language):
    for report in languages.REPORTS:
        export = read_ui_export(report_csv(language, report).encode("utf-8-sig"))
        assert list(export.reports) == [report], (language.code, report)
        assert len(export.rows) == 3
        assert language.code in export.languages


def test_every_accepted_label_of_a_table_is_read():
    for language in LANGUAGES:
        for report, labels in language.reports.items():
            for label in labels:
                for position in language.metrics["position"]:
                    content = f"{label},{language.metrics['clicks'][-1]},{language.metrics['impressions'][-1]},"
                    content += f"{language.metrics['ctr'][-1]},{position}\nx,1,10,10%,2.5\n"
                    key = "2024-03-05" if report == "dates" else "x"
                    export = read_ui_export(content.replace("\nx,", f"\n{key},").encode())
                    assert list(export.reports) == [report], (language.code, label, position)


# ---------------------------------------------------------------- unknown languages and mismatched files
@pytest.mark.parametrize(
    ("content", "header"),
    [
        ("En popüler sorgular,Tıklama,Görüntüleme,CTR,Ortalama konum\nayakkabı,1,10,10%,2\n", "En popüler sorgular"),  # noqa: RUF001
        ("Nejčastější dotazy,Kliknutí,Zobrazení,CTR,Pozice\nboty,1,10,10%,2\n", "Nejčastější dotazy"),
        ("Vanligaste sökfrågorna;Klick;Visningar;CTR;Position\nskor;1;10;10 %;2\n", "Vanligaste sökfrågorna"),
        ("Filter,Värde\nSöktyp,Webb\n", "Filter,Värde"),
    ],
    ids=["turkish", "czech", "swedish", "swedish-filters"],
)
def test_an_unknown_language_fails_naming_the_header_it_found(content, header):
    reason = reason_of(content.encode())
    assert "is not a Search Console performance report in a UI language Kestrel reads" in reason
    assert header in reason
    assert "German, French, Spanish, Italian, Portuguese, Dutch, Polish, Japanese, Korean, Chinese" in reason


def test_a_known_key_column_with_unknown_metrics_names_them():
    reason = reason_of("Häufigste Suchanfragen,Klik,Impressionen,Position\nx,1,10,2\n".encode())
    assert "wrong header: missing column(s) clicks; unknown column(s) klik" in reason
    assert "Häufigste Suchanfragen,Klik,Impressionen,Position" in reason


def test_a_file_named_as_one_report_holding_another_fails():
    german = languages.GERMAN
    reason = reason_of(ui_zip({"Suchanfragen.csv": report_csv(german, "pages")}))
    assert "Suchanfragen.csv is named as the Queries file, but its header" in reason
    assert "is that of Pages" in reason
    reason = reason_of(ui_zip({"Dates (1).csv": filters_csv(languages.ENGLISH)}))
    assert "Dates (1).csv is named as the Dates file" in reason
    # A name no table knows, or a prefixed one, is not checked: the header decides.
    export = read_ui_export(ui_zip({"acme-Suchanfragen-export.csv": report_csv(german, "pages")}))
    assert list(export.reports) == ["pages"]


# ---------------------------------------------------------------- numbers: mixed decimal and thousands formats
def test_mixed_decimal_and_thousands_formats_in_one_export():
    content = (
        "Häufigste Seiten;Klicks;Impressionen;CTR;Position\n"
        'https://www.acme.com/;1.234;"10.000";12,34 %;3,4\n'  # 2: dots group thousands, commas are decimal
        "https://www.acme.com/a/;1\u202f234;10\u00a0000;12,34\u202f%;1,234\n"  # 3: narrow and no-break spaces
        "https://www.acme.com/b/;1'234;10'000;12,34%;1.234,5\n"  # 4: apostrophes; '1.234,5' has both
        "https://www.acme.com/c/;5;50;10\uff05;2,0\n"  # 5: full-width percent sign
        "https://www.acme.com/d/;5;50;10,0 %;2.25\n"  # 6: a point where the column has commas
    ).encode()
    export = read_ui_export(content)
    assert [(row.key[-3:], row.clicks, row.impressions, row.position) for row in export.rows] == [
        ("om/", 1234, 10000, 3.4),
        ("/a/", 1234, 10000, 1.234),
        ("/b/", 1234, 10000, 1234.5),
        ("/c/", 5, 50, 2.0),
    ]
    assert errors_by_line(export.errors) == {
        6: "Position: '2.25' has '.' as decimal separator, but the other values of this column have ','"
    }


def test_the_languages_decimal_separator_settles_only_what_nothing_in_the_file_settles():
    # Alone, "1,234" could be 1234 or 1.234: a German header says the comma is decimal, an English one rejects it.
    german = read_ui_export(b'Seiten,Klicks,Impressionen,Position\nhttps://www.acme.com/,1,10,"1,234"\n')
    assert [row.position for row in german.rows] == [pytest.approx(1.234)]
    english = read_ui_export(b'Top pages,Clicks,Impressions,Position\nhttps://www.acme.com/,1,10,"1,234"\n')
    assert english.rows == []
    assert "is ambiguous" in errors_by_line(english.errors)[2]
    # Search Console writes points in every language: a French export's "2.36" teaches the point.
    french = read_ui_export(
        "Requêtes les plus fréquentes,Clics,Impressions,CTR,Position\n"
        "muralière,114,3681,3.1%,2.36\nmuraliere,65,1551,4.19%,3\n".encode()
    )
    assert [(row.clicks, row.position) for row in french.rows] == [(114, 2.36), (65, 3.0)]
    numbers = NumberReader(fallback_decimal=",")
    assert numbers.decimal("position", "1.234") == 1234.0  # the comma is decimal, so the point groups
    numbers.observe("position", "3.45")
    with pytest.raises(ValueProblem, match="has ','"):
        numbers.decimal("position", "3,4")


# ---------------------------------------------------------------- Filters.csv: labels, search types, date ranges
@pytest.mark.parametrize("language", LANGUAGES, ids=lambda language: language.code)
def test_filters_date_labels_per_language(language):
    for preset, labels in language.date_presets.items():
        for label in labels:
            export = read_ui_export(language_zip(language, filters=filters_csv(language, date=label)))
            assert export.date_preset == preset, (language.code, label)
            assert export.date_filter == label
            assert export.date_range is None
    for search_type, values in language.search_types.items():
        for value in values:
            files = {"Q.csv": report_csv(language, "queries"), "F.csv": filters_csv(language, search_type=value)}
            export = read_ui_export(ui_zip(files))
            assert export.search_type == search_type, (language.code, value)
    custom = read_ui_export(language_zip(language, filters=filters_csv(language, date="2024-03-01 - 2024-03-31")))
    assert (custom.date_preset, custom.date_range) == (None, (dt.date(2024, 3, 1), dt.date(2024, 3, 31)))
    for word in language.comparison:
        reason = reason_of(language_zip(language, filters=filters_csv(language, date=f"{word} 28 / 28")))
        assert "compares two date ranges" in reason, (language.code, word)


@pytest.mark.parametrize("language", LANGUAGES, ids=lambda language: language.code)
def test_a_filter_on_a_dimension_in_any_language_fails(language):
    for kind in sorted(languages.DIMENSION_FILTERS):
        filters = filters_csv(language) + f"{language.filters[kind][0]},+shoes\n"
        reason = reason_of(ui_zip({"Q.csv": report_csv(language, "queries"), "F.csv": filters}))
        assert f"The export is filtered ({language.filters[kind][0]}: +shoes)" in reason


def test_an_unknown_filter_label_or_search_type_fails_naming_it():
    german = languages.GERMAN
    reason = reason_of(ui_zip({"Q.csv": report_csv(german, "queries"), "F.csv": "Filter,Wert\nSuchdarstellung,FAQ\n"}))
    assert "has a filter Kestrel does not know, 'Suchdarstellung' (value 'FAQ', line 2)" in reason
    reason = reason_of(ui_zip({"Q.csv": report_csv(german, "queries"), "F.csv": "Filter,Wert\nSuchtyp,Shopping\n"}))
    assert "unknown search type 'Shopping' (line 2)" in reason


def test_year_first_dates_of_cjk_spreadsheets_in_a_custom_range():
    japanese = languages.JAPANESE
    export = read_ui_export(
        language_zip(japanese, filters=filters_csv(japanese, date="2024年3月1日\uff5e2024年3月31日"))
    )
    assert export.date_range == (dt.date(2024, 3, 1), dt.date(2024, 3, 31))
    korean = languages.KOREAN
    export = read_ui_export(language_zip(korean, filters=filters_csv(korean, date="2024. 3. 1. - 2024. 3. 31.")))
    assert export.date_range == (dt.date(2024, 3, 1), dt.date(2024, 3, 31))


def test_a_localised_preset_without_dates_names_itself_in_the_reason():
    spanish = languages.SPANISH
    files = {"Consultas.csv": report_csv(spanish, "queries"), "Filtros.csv": filters_csv(spanish)}
    export = read_ui_export(ui_zip(files))
    with pytest.raises(RejectedFile) as rejected:
        ui_snapshots(export, range_start=None, range_end=None, search_type=None)
    assert "Filters.csv gives the range as 'Últimos 3 meses' (last 3 months), which names no dates" in (
        rejected.value.reason
    )


# ---------------------------------------------------------------- the headers and Filters.csv seen in real exports
# File names, headers and Filters.csv rows as real exports in public repositories have them (the sources the
# tables cite); the data lines are this test's own.
REAL_HEADERS = [
    ("fr", "Requêtes.csv", "Requêtes les plus fréquentes,Clics,Impressions,CTR,Position", "queries"),
    ("fr", "Pages.csv", "Pages les plus populaires,Clics,Impressions,CTR,Position", "pages"),
    ("fr", "Pays.csv", "Pays,Clics,Impressions,CTR,Position", "countries"),
    ("fr", "Appareils.csv", "Appareil,Clics,Impressions,CTR,Position", "devices"),
    (
        "fr",
        "Apparence dans les résultats de recherche.csv",
        "Apparence dans les résultats de recherche,Clics,Impressions,CTR,Position",
        "search_appearance",
    ),
    ("fr", "Dates.csv", "Date,Clics,Impressions,CTR,Position", "dates"),
    ("es", "Páginas.csv", "Páginas principales,Clics,Impresiones,CTR,Posición", "pages"),
    ("es", "Países.csv", "País,Clics,Impresiones,CTR,Posición", "countries"),
    ("es", "Dispositivos.csv", "Dispositivo,Clics,Impresiones,CTR,Posición", "devices"),
    ("es", "Gráfico.csv", "Fecha,Clics,Impresiones,CTR,Posición", "dates"),
    ("nl", "Apparaten.csv", "Apparaat,Aantal klikken,Vertoningen,CTR,Positie", "devices"),
    ("nl", "Landen.csv", "Land,Aantal klikken,Vertoningen,CTR,Positie", "countries"),
    ("nl", "Diagram.csv", "Datum,Aantal klikken,Vertoningen,CTR,Positie", "dates"),
    ("ja", "クエリ.csv", "上位のクエリ,クリック数,表示回数,CTR,掲載順位", "queries"),
    ("ja", "ページ.csv", "上位のページ,クリック数,表示回数,CTR,掲載順位", "pages"),
    ("zh", "图表.csv", "日期,点击次数,展示,点击率,排名", "dates"),
]
REAL_FILTERS = [
    ("es", "filtros.csv", "Filtrar,Valor\nTipo de búsqueda,Web\nFecha,Últimos 3 meses\n", "last 3 months"),
    ("nl", "Filters.csv", "Filter,Waarde\nZoektype,Web\nDatum,Afgelopen 6 maanden", "last 6 months"),
    ("en", "Filters.csv", "Filter,Value\nSearch type,Web\nDate,Last 3 months\n", "last 3 months"),
]


@pytest.mark.parametrize(("code", "name", "header", "report"), REAL_HEADERS, ids=lambda value: str(value)[:24])
def test_the_headers_of_real_exports_are_read(code, name, header, report):
    key = "2026-06-17" if report == "dates" else "https://www.acme.com/" if report == "pages" else "x"
    export = read_ui_export(ui_zip({name: f"{header}\n{key},26,2135,1.22%,48.54\n"}))
    assert list(export.reports) == [report]
    assert code in export.languages
    assert [(row.clicks, row.impressions, row.position) for row in export.rows] == [(26, 2135, 48.54)]


@pytest.mark.parametrize(("code", "name", "filters", "preset"), REAL_FILTERS, ids=lambda value: str(value)[:12])
def test_the_filters_of_real_exports_are_read(code, name, filters, preset):
    header = REAL_HEADERS[-1][2]
    export = read_ui_export(ui_zip({"图表.csv": f"{header}\n2026-06-17,1,6,16.67%,23.7\n", name: filters}))
    assert (export.search_type, export.date_preset, export.has_filters) == ("web", preset, True)
    assert code in export.languages


def test_a_day_without_impressions_is_no_row_but_still_spans_the_range():
    # Real Spanish and Chinese exports write a day without impressions with empty CTR and position.
    content = "Fecha,Clics,Impresiones,CTR,Posición\n2026-05-10,0,0,,\n2026-05-11,0,4,0%,2.8\n2026-05-12,0,0,,\n"
    export = read_ui_export(ui_zip({"Gráfico.csv": content, "Páginas.csv": report_csv(languages.SPANISH, "pages")}))
    assert errors_by_line(export.errors) == {}
    assert [row.key for row in export.rows if row.report == "dates"] == ["2026-05-11"]
    assert export.empty_days == [dt.date(2026, 5, 10), dt.date(2026, 5, 12)]
    snapshots = ui_snapshots(export, range_start=None, range_end=None, search_type=None)
    assert {(s.range_start, s.range_end) for s in snapshots if s.report == "pages"} == {
        (dt.date(2026, 5, 10), dt.date(2026, 5, 12))
    }
    # Only a day with no clicks and no impressions may leave its CTR and position empty.
    bad = read_ui_export(ui_zip({"Gráfico.csv": "Fecha,Clics,Impresiones,CTR,Posición\n2026-05-10,0,3,,\n"}))
    assert errors_by_line(bad.errors) == {2: "Gráfico.csv: Posición: is empty; CTR: is empty"}


@pytest.mark.parametrize(
    "language", [language for language in LANGUAGES if language.months], ids=lambda lang: lang.code
)
def test_custom_ranges_written_with_each_languages_month_names(language):
    for number, names in enumerate(language.months, start=1):
        for name in names:
            for text in (f"1 {name} 2024 - 2 {name} 2024", f"1. {name}. 2024 \u2013 2. {name}. 2024"):
                assert date_range_in(text) == (dt.date(2024, number, 1), dt.date(2024, number, 2)), text
    export = read_ui_export(
        language_zip(
            language,
            filters=filters_csv(language, date=f"3 {language.months[6][0]}. 2026-9 {language.months[7][0]} 2026"),
        )
    )
    assert export.date_range == (dt.date(2026, 7, 3), dt.date(2026, 8, 9))


def test_custom_ranges_as_repositories_quote_them():
    assert date_range_in("27 juil. 2026-9 août 2026") == (dt.date(2026, 7, 27), dt.date(2026, 8, 9))
    assert date_range_in("1 janv. 2026-31 janv. 2026") == (dt.date(2026, 1, 1), dt.date(2026, 1, 31))
    assert date_range_in("Aug 28, 2026-Sep 3, 2026") == (dt.date(2026, 8, 28), dt.date(2026, 9, 3))
    assert date_range_in("1 de mar. de 2024 - 31 de mar. de 2024") == (dt.date(2024, 3, 1), dt.date(2024, 3, 31))
    for preset in (label for language in LANGUAGES for labels in language.date_presets.values() for label in labels):
        assert date_range_in(preset) is None, preset  # a preset names no dates


@pytest.mark.parametrize(
    "header",
    [
        "Top queries,Last 28 days Clicks,Previous 28 days Clicks,Impressions,Position",
        "Najczęstsze zapytania,Kliknięcia (ostatnie 28 dni),Kliknięcia (poprzednie 28 dni),Wyświetlenia,Pozycja",
    ],
    ids=["en", "pl"],
)
def test_a_comparison_export_in_any_language_is_named_as_one(header):
    assert "is a comparison export" in reason_of(f"{header}\nx,1,2,3,4\n".encode())
