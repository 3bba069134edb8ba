"""Text inside a `code span` reads as written: no visible markdown escapes, no way out of the span, no pings."""

from __future__ import annotations

from bot.limits import code, safe


def test_markdown_is_not_escaped_inside_a_code_span() -> None:
    assert code("load_balancer/site-lb") == "load_balancer/site-lb"
    assert safe("load_balancer/site-lb") != "load_balancer/site-lb"  # why `safe` is wrong there


def test_a_backtick_cannot_end_the_span_and_a_mention_cannot_ping() -> None:
    text = code("x` @everyone <@&123456789012345678> `y")
    assert "`" not in text
    assert "@everyone" not in text and "<@&123456789012345678>" not in text


def test_a_code_span_is_cut_to_its_limit() -> None:
    assert len(code("a" * 200, 80)) == 80
