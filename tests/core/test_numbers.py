"""format_number: the one spelling of a float, in constant names and on screen."""

from bpviz.core.numbers import format_number


def test_format_number():
    assert format_number(56.0) == "56"
    assert format_number(-9.0) == "-9"
    assert format_number(0.25) == "0.25"
    assert format_number(1.5e-7) == "1.5e-07"
    assert format_number(float("nan")) == "nan"
