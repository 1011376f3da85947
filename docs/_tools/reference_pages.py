"""Write one API reference page per public module during ``mkdocs build`` (mkdocs-gen-files).

A module is public when no part of its dotted path starts with ``_``. Each page renders the
names in the module's ``__all__`` with mkdocstrings (``filters: public``), from the docstrings
and signatures in ``src/``; nothing here lists names by hand, so a new public module or name
appears in the reference by itself. Two kinds of public module have no page of their own:

- ``dq_sdk.cli`` and below: the ``dq-sdk`` command is documented as a command (``cli.md``);
- ``dq_sdk.schemas.<family>``: generated modules whose models ``dq_sdk.schemas`` re-exports.
"""

from __future__ import annotations

from pathlib import Path

import mkdocs_gen_files

SRC = Path(__file__).resolve().parents[2] / "src"
PACKAGE = "dq_sdk"
ONLY_AS_COMMAND = "dq_sdk.cli"
GENERATED_FAMILIES = "dq_sdk.schemas."

# One sentence per page, shown in the reference's index.
_BLURB = {
    "dq_sdk": "Typed producers and consumers, admin, errors and the SKA library's API.",
    "dq_sdk.codecs": "Every wire format on its own: encode, decode, limits.",
    "dq_sdk.schemas": "The message models generated from `schemas/`.",
    "dq_sdk.testing": "A real local broker for tests.",
    "dq_sdk.testing.strategies": "Hypothesis strategies for every message model.",
    "dq_sdk.testing.pytest_plugin": "The pytest fixtures (registered on install).",
    "dq_sdk.examples": "Example messages with plausible values (the demo's data).",
    "dq_sdk.dataqueues": "The SKA Data Queue Library's API, by its own module name.",
    "dq_sdk.integrations.quixstreams": "Quix Streams serializers for dq-sdk models.",
}


def public_modules(src: Path = SRC) -> list[str]:
    """Dotted names of the public modules under ``src/dq_sdk``, parents before children."""
    names = []
    for path in sorted((src / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(src).with_suffix("").parts)
        if parts[-1] in ("__init__", "__main__"):
            if parts[-1] == "__main__":
                continue
            parts = parts[:-1]
        name = ".".join(parts)
        if any(part.startswith("_") for part in parts):
            continue
        if name == ONLY_AS_COMMAND or name.startswith(ONLY_AS_COMMAND + "."):
            continue
        if name.startswith(GENERATED_FAMILIES):
            continue
        names.append(name)
    return sorted(names, key=lambda name: (name != PACKAGE, name))


def _page(module: str) -> str:
    return f"# `{module}`\n\n::: {module}\n    options:\n      show_root_heading: false\n"


def main() -> None:
    modules = public_modules()
    nav = mkdocs_gen_files.Nav()  # type: ignore[attr-defined, no-untyped-call]
    index = [
        "# API reference\n",
        "Generated from the docstrings and signatures in `src/` at every build: each page lists",
        "the names in one public module's `__all__`. Anything else (modules and names starting",
        "with `_`) is private and may change without notice.\n",
        "| module | what |",
        "|---|---|",
    ]
    for module in modules:
        filename = f"{module}.md"
        with mkdocs_gen_files.open(f"reference/{filename}", "w") as page:
            page.write(_page(module))
        mkdocs_gen_files.set_edit_path(f"reference/{filename}", "../_tools/reference_pages.py")
        nav[module] = filename
        index.append(f"| [`{module}`]({filename}) | {_BLURB.get(module, '')} |")
    with mkdocs_gen_files.open("reference/index.md", "w") as page:
        page.write("\n".join(index) + "\n")
    with mkdocs_gen_files.open("reference/SUMMARY.md", "w") as summary:
        summary.write("* [Overview](index.md)\n")
        summary.writelines(nav.build_literate_nav())


main()
