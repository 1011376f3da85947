"""mypy --strict over the typed endpoints: inference that must hold, misuse that must fail."""

from __future__ import annotations

from pathlib import Path

from _mypy_cases import expected_errors, mypy_errors

HERE = Path(__file__).parent


def test_inference_passes_strict_mypy() -> None:
    assert mypy_errors(HERE / "pass_endpoints.py") == {}


def test_wrong_uses_fail_with_the_expected_codes() -> None:
    path = HERE / "fail_endpoints.py"
    expected = expected_errors(path)
    assert len(expected) >= 9
    assert mypy_errors(path) == expected
