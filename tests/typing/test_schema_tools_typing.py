"""mypy --strict over dq_sdk.schema_tools: inference that must hold, misuse that must fail."""

from __future__ import annotations

from pathlib import Path

from _mypy_cases import expected_errors, mypy_errors

HERE = Path(__file__).parent


def test_schema_tools_typing_passes_strict_mypy() -> None:
    assert mypy_errors(HERE / "schema_tools_pass.py") == {}


def test_wrong_uses_of_schema_tools_fail_with_the_expected_codes() -> None:
    path = HERE / "fail_schema_tools.py"
    expected = expected_errors(path)
    assert len(expected) == 7
    assert mypy_errors(path) == expected
