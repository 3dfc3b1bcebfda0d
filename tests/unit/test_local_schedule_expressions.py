"""EventBridge schedule expressions as the local scheduler reads them: cron's next firing, what it refuses.

The scheduler firing into queues and functions in the emulator is tests/local_stack/test_local_schedules.py.
"""

from datetime import UTC, datetime

import pytest

from kestrel_local.schedules import Cron, Expression, InvalidScheduleExpression, UnsupportedScheduleExpression


def _at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def _iso(moment: float | None) -> str:
    assert moment is not None
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%d %H:%M %a")


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        ("0 5 * * ? *", "2026-11-22 06:21:00", "2026-11-23 05:00 Mon"),
        ("0 5 * * ? *", "2026-11-22 04:59:59", "2026-11-22 05:00 Sun"),
        ("0/15 * ? * MON-FRI *", "2026-11-21 10:07:00", "2026-11-23 00:00 Mon"),  # a Saturday
        ("0/15 * ? * MON-FRI *", "2026-11-23 10:07:00", "2026-11-23 10:15 Mon"),
        ("30 9 1 JAN,JUL ? 2027", "2026-11-22 00:00:00", "2027-01-01 09:30 Fri"),
        ("0 0 ? * 1 *", "2026-11-22 00:00:00", "2026-11-29 00:00 Sun"),  # 1 = Sunday; strictly after
        ("10-12 23 31 * ? *", "2026-11-30 00:00:00", "2026-12-31 23:10 Thu"),
    ],
)
def test_cron_next_firing(expression, after, expected):
    assert _iso(Cron.parse(expression).next_after(_at(after))) == expected


def test_cron_in_a_time_zone():
    # 05:00 in Paris is 04:00 UTC in winter.
    assert (
        _iso(Cron.parse("0 5 * * ? *", "Europe/Paris").next_after(_at("2026-11-22 06:00:00"))) == "2026-11-23 04:00 Mon"
    )


@pytest.mark.parametrize("expression", ["cron(0 12 L * ? *)", "cron(0 12 15W * ? *)", "cron(0 12 ? * 6#3 *)"])
def test_l_w_and_hash_are_refused_clearly(expression):
    with pytest.raises(UnsupportedScheduleExpression, match="not supported by the local scheduler"):
        Expression(expression)


@pytest.mark.parametrize(
    "expression",
    [
        "cron(0 5 * * * *)",
        "cron(0 5 ? * ? *)",
        "cron(0 5 * *)",
        "cron(61 5 * * ? *)",
        "rate(1 minutes)",
        "rate(5 minute)",
        "rate(0 minutes)",
        "rate(2 weeks)",
        "every day",
    ],
)
def test_invalid_expressions_are_refused(expression):
    with pytest.raises(InvalidScheduleExpression):
        Expression(expression)
