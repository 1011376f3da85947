"""Schema lifecycle tools: compatibility between schema versions, version rules, AsyncAPI.

::

    from dq_sdk.schema_tools import check_against, check_compatibility

    for report in check_against("main"):          # every schema in schemas/ against main's
        for change in report.breaking:
            print(change)                         # path, reason, kind, direction

Plain JSON Schema is judged by Confluent Schema Registry's rules (open / closed content models);
dq-sdk's keywords (``x-encoding``, ``x-dtype``, ``x-xarray``, ``x-items-by``) by rules of
their own. See docs/schemas.md ("Changing a schema").
"""

from ._asyncapi import (
    ASYNCAPI_VERSION,
    ChannelSpec,
    asyncapi_document,
    content_type,
    load_channels,
)
from ._compat import check_against, check_compatibility, diff_schemas
from ._jsonschema_rules import is_compatible
from ._report import (
    BreakingChange,
    CompatMode,
    CompatPolicy,
    Difference,
    Direction,
    SchemaReport,
)
from ._sources import SchemaDocument, load_folder, load_git, load_shipped, merge_base
from ._versions import SchemaVersion, VersionProblem, check_version_bumps, check_versions_against

__all__ = [
    "ASYNCAPI_VERSION",
    "BreakingChange",
    "ChannelSpec",
    "CompatMode",
    "CompatPolicy",
    "Difference",
    "Direction",
    "SchemaDocument",
    "SchemaReport",
    "SchemaVersion",
    "VersionProblem",
    "asyncapi_document",
    "check_against",
    "check_compatibility",
    "check_version_bumps",
    "check_versions_against",
    "content_type",
    "diff_schemas",
    "is_compatible",
    "load_channels",
    "load_folder",
    "load_git",
    "load_shipped",
    "merge_base",
]
