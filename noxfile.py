"""Developer sessions. ``nox -l`` lists them; ``bash scripts/test.sh`` is what CI runs.

codegen / codegen_check   regenerate src/dq_sdk/schemas from schemas/ / fail if it is stale
schemas_check             schema versions follow their changes since the merge base with main
                          (major for a breaking change); ``-- --against REF`` compares elsewhere
lint / typecheck          ruff, mypy --strict (src, tests, codegen, benchmarks, this file)
tests                     the pytest suite against a local broker the tests start
kafka                     the Kafka-facing tests only, e.g. against DQ_SDK_BOOTSTRAP=host:port
bench                     benchmarks/ against a local broker, compared with raw aiokafka
fuzz                      the long decoder fuzz run (the suite runs a short one)
demo                      the README's demo
docs                      build the site strictly (a warning fails) into site/
"""

from __future__ import annotations

import nox

nox.options.default_venv_backend = "venv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["codegen_check", "schemas_check", "lint", "typecheck", "tests"]

PYPROJECT = nox.project.load_toml("pyproject.toml")
TEST_TOOLS = nox.project.dependency_groups(PYPROJECT, "test")
DOCS_TOOLS = nox.project.dependency_groups(PYPROJECT, "docs")
# MkDocs plugins print a banner about MkDocs 2 on every build; the choice is in docs/decisions.md.
DOCS_ENV = {"NO_MKDOCS_2_WARNING": "1", "DISABLE_MKDOCS_2_WARNING": "true"}


def _install(session: nox.Session, *tools: str) -> None:
    session.install("-e", ".[all]", *tools)


@nox.session
def codegen(session: nox.Session) -> None:
    _install(session, *TEST_TOOLS)
    session.run("python", "-m", "codegen")


@nox.session
def codegen_check(session: nox.Session) -> None:
    _install(session, *TEST_TOOLS)
    session.run("python", "-m", "codegen", "--check")


@nox.session
def schemas_check(session: nox.Session) -> None:
    _install(session)
    session.run("dq-sdk", "schemas", "versions", *session.posargs)
    if session.posargs:
        session.run("dq-sdk", "schemas", "compat", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    _install(session, *TEST_TOOLS)
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    _install(session, *TEST_TOOLS)
    session.run("mypy")


@nox.session
def tests(session: nox.Session) -> None:
    _install(session, *TEST_TOOLS)
    session.run("pytest", *session.posargs)


@nox.session
def kafka(session: nox.Session) -> None:
    _install(session, *TEST_TOOLS)
    session.run("pytest", "-m", "kafka", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    _install(session, *TEST_TOOLS)
    session.run("python", "-m", "benchmarks", *session.posargs)


@nox.session
def fuzz(session: nox.Session) -> None:
    _install(session, *TEST_TOOLS)
    session.run("python", "-m", "tests.codecs.fuzz", *session.posargs)


@nox.session
def demo(session: nox.Session) -> None:
    _install(session)
    session.run("dq-sdk", "demo", *session.posargs)


@nox.session
def docs(session: nox.Session) -> None:
    _install(session, *DOCS_TOOLS)
    session.run("mkdocs", "build", "--strict", "--site-dir", "site", env=DOCS_ENV)
