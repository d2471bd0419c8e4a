"""Which lines of a solution or hidden test count as secrets (the leak checks of the student kit,
the feedback pages and the class report rely on it)."""

import pytest

from crmkit.engine import cells


@pytest.mark.parametrize("line", ["", "  )", "else:", "pass", "except:", "except FileNotFoundError:",
                                  "except (KeyError, ValueError) as e:", "except pd.errors.ParserError:"])
def test_generic_python_lines_are_not_secrets(line):
    assert cells.is_trivial(line)


@pytest.mark.parametrize("line", ["assert bottleneck_stage == min(_ht_rate, key=_ht_rate.get)",
                                  "except FileNotFoundError: x = 1", "x = df['sales'].sum()"])
def test_lines_that_do_something_are_secrets(line):
    assert not cells.is_trivial(line)
