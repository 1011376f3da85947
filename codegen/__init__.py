"""Build-time code generation: ``schemas/*.json`` -> ``src/dq_sdk/schemas/``.

Never imported by ``src/``.

``python -m codegen`` regenerates; ``python -m codegen --check`` fails with a diff when the
committed package differs from what the schemas generate. See docs/schemas.md.
"""
