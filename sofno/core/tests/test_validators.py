import pytest
from django.core.exceptions import ValidationError
from pydantic import ValidationError as PydanticValidationError

from sofno.core.schemas import WindowsIn, check_country, check_phone
from sofno.core.validators import (
    normalize_country,
    normalize_phone,
    validate_country,
    validate_phone,
    validate_timezone_field,
    validate_weekly_windows,
)

BAD_PHONES = [
    ("0612345678", "E.164"),  # national form, no country code
    ("0039 06 1234 5678", "E.164"),  # international prefix instead of +
    ("+39 abc", "not a phone number"),  # letters
    ("+", "not a phone number"),  # nothing after +
    ("+1 555 0100", "not a valid number"),  # too short for its country
    ("+39 06 1234 5678 9999 99", "not a valid number"),  # too long
    ("+999 1234 5678", "not a phone number"),  # no such country code
]


@pytest.mark.parametrize(("raw", "reason"), BAD_PHONES)
def test_it_rejects_bad_phone_numbers(raw, reason):
    with pytest.raises(ValueError, match=reason):
        normalize_phone(raw)
    with pytest.raises(ValidationError) as caught:
        validate_phone(raw)
    assert caught.value.code == "phone"


def test_it_normalizes_phone_numbers_to_e164():
    assert normalize_phone(" +39 06-1234-5678 ") == "+390612345678"
    assert check_phone("+1 (512) 555-0123") == "+15125550123"
    assert check_phone("") == ""


@pytest.mark.parametrize("raw", ["XX", "ITA", "I", "1T", "EU"])
def test_it_rejects_unknown_country_codes(raw):
    with pytest.raises(ValueError, match="ISO 3166"):
        normalize_country(raw)
    with pytest.raises(ValidationError):
        validate_country(raw)


def test_it_upper_cases_country_codes_in_schemas_but_not_in_models():
    assert check_country("it") == "IT"
    assert normalize_country("AQ") == "AQ"
    with pytest.raises(ValidationError, match="upper case"):
        validate_country("it")


@pytest.mark.parametrize("name", ["Mars/Base", "europe/rome", "", "../etc/passwd", "UTC+1"])
def test_it_rejects_unknown_timezones(name):
    with pytest.raises(ValidationError) as caught:
        validate_timezone_field(name)
    assert caught.value.code == "timezone"


@pytest.mark.parametrize(
    ("ranges", "rule"),
    [
        ([{"day": 0, "start": "18:00", "end": "09:00"}], "inverted_range"),
        ([{"day": 0, "start": "09:00", "end": "09:00"}], "inverted_range"),
        (
            [
                {"day": 2, "start": "09:00", "end": "13:00"},
                {"day": 2, "start": "12:30", "end": "18:00"},
            ],
            "overlapping_ranges",
        ),
        ([{"day": 7, "start": "09:00", "end": "10:00"}], "less_than_equal"),
        ([{"day": 0, "start": "24:00", "end": "24:00"}], "string_pattern_mismatch"),
        ([{"day": 0, "start": "9:00", "end": "10:00"}], "string_pattern_mismatch"),
    ],
)
def test_it_rejects_bad_weekly_windows_with_the_same_rule_everywhere(ranges, rule):
    with pytest.raises(PydanticValidationError) as caught:
        WindowsIn(ranges=ranges)
    assert caught.value.errors()[0]["type"] == rule
    with pytest.raises(ValidationError) as django_caught:
        validate_weekly_windows({"ranges": ranges})
    assert django_caught.value.code == rule


def test_it_accepts_adjacent_ranges_and_midnight_end():
    hours = [
        {"day": 4, "start": "09:00", "end": "13:00"},
        {"day": 4, "start": "13:00", "end": "24:00"},
        {"day": 5, "start": "00:00", "end": "02:00"},
    ]
    assert len(WindowsIn(ranges=hours).ranges) == 3
    validate_weekly_windows({"ranges": hours})


def test_it_rejects_windows_json_of_the_wrong_shape():
    with pytest.raises(ValidationError):
        validate_weekly_windows(["not", "a", "dict"])
