"""Each OpenAPI schema name stands for one schema: ninja files every model's definition
under its class name, so two models sharing a name silently describe one another."""

import json
from collections import defaultdict

from ninja.openapi.schema import REF_TEMPLATE
from ninja.schema import NinjaGenerateJsonSchema


def _definitions_by_name() -> dict[str, set[str]]:
    """Every definition each operation's models bring into the document, by name."""
    from sofno.api import api

    found: dict[str, set[str]] = defaultdict(set)
    for bound_router in api._get_bound_routers():
        for path_view in bound_router.path_operations.values():
            for operation in path_view.operations:
                models = [(m, "validation") for m in operation.models]
                models += [
                    (m, "serialization")
                    for m in operation.response_models.values()
                    if isinstance(m, type) and hasattr(m, "model_json_schema")
                ]
                for model, mode in models:
                    schema = model.model_json_schema(
                        ref_template=REF_TEMPLATE,
                        schema_generator=NinjaGenerateJsonSchema,
                        mode=mode,
                    )
                    for name, definition in schema.get("$defs", {}).items():
                        found[name].add(json.dumps(definition, sort_keys=True))
    return found


def test_no_two_different_schemas_share_a_name():
    shared = {name: len(kinds) for name, kinds in _definitions_by_name().items() if len(kinds) > 1}
    assert shared == {}


def test_it_describes_command_templates_with_their_own_schema(client):
    document = client.get("/api/openapi.json").json()
    body = document["paths"]["/api/v1/command-templates"]["post"]["requestBody"]
    ref = body["content"]["application/json"]["schema"]["$ref"]
    schema = document["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert {"kind", "argument", "timeout"} <= set(schema["properties"])
