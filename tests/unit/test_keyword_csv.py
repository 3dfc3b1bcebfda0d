import pytest

from shared.errors import RejectedFile
from shared.projects.keyword_csv import parse_keyword_csv


def parse(text: str):
    return list(parse_keyword_csv(text.splitlines(keepends=True)))


def test_header_is_case_and_space_insensitive_and_columns_optional():
    lines = parse("Keyword , TARGET URL,Tags\nShoes,https://a.com/x,a;b|c\n")
    assert lines[0].error is None
    keyword = lines[0].keyword
    assert keyword is not None
    assert (keyword.text, keyword.target_url, keyword.tags) == ("shoes", "https://a.com/x", ["a", "b", "c"])
    assert (keyword.locale, keyword.country, keyword.device) == ("en", "US", "desktop")


def test_line_numbers_count_physical_lines_including_quoted_newlines():
    lines = parse('keyword,tags\n"multi\nline",x\nok,\n,\nbad,\n')
    assert [line.line for line in lines] == [2, 4, 6]
    assert lines[0].keyword is not None
    assert lines[0].keyword.text == "multi line"
    assert lines[2].keyword is not None


def test_wrong_field_count_is_a_line_error():
    lines = parse("keyword,country\nshoes\nboots,us,extra\n")
    assert [line.error for line in lines] == ["expected 2 fields, found 1", "expected 2 fields, found 3"]


def test_reasons_name_the_column():
    (line,) = parse("keyword,device,target_url\nshoes,tablet,notaurl\n")
    assert line.error is not None
    assert line.error.startswith("device: ")
    assert "target_url: " in line.error


@pytest.mark.parametrize(
    ("text", "reason"),
    [("", "empty"), ("foo\n", "missing column(s) keyword"), ("keyword,Keyword\n", "repeated column(s) keyword")],
)
def test_rejected_files(text, reason):
    with pytest.raises(RejectedFile, match=reason.replace("(", r"\(").replace(")", r"\)")):
        parse(text)


def test_control_characters_are_rejected_per_line():
    (line,) = parse("keyword\nbad\x07bell\n")
    assert line.error == "keyword: Value error, must not contain control characters"


def test_a_country_must_be_iso_3166_alpha2_and_is_stored_upper_case():
    good, unknown, shape = parse("keyword,country\nshoes,gb\nboots,XX\ntents,USA\n")
    assert good.keyword is not None
    assert good.keyword.country == "GB"
    assert unknown.error == "country: Value error, 'XX' is not an ISO 3166-1 alpha-2 country code (e.g. US, GB, DE)"
    assert shape.error is not None
    assert shape.error.startswith("country: ")
