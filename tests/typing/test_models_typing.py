"""mypy --strict over the generated models: inference that must hold, misuse that must fail.

Uses the shared runner in ``_mypy_cases.py``: a line ending in ``# E: <code>`` must be exactly
that mypy error, and every other line must be clean.
"""

from __future__ import annotations

from pathlib import Path

from _mypy_cases import expected_errors, mypy_errors

HERE = Path(__file__).parent


def test_model_typing_passes_strict_mypy() -> None:
    assert mypy_errors(HERE / "models_pass.py") == {}


def test_wrong_uses_of_models_fail_with_the_expected_codes() -> None:
    path = HERE / "fail_models.py"
    expected = expected_errors(path)
    assert len(expected) >= 12
    assert mypy_errors(path) == expected
