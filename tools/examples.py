"""Example values for JSON Schemas of an OpenAPI document, the same every time."""

from typing import Any

# Deep enough for every request body of the app; stops a self-referencing schema.
MAX_DEPTH = 6
_FORMATS = {
    "email": "user@example.com",
    "date-time": "2026-01-01T09:30:00Z",
    "date": "2026-01-01",
    "uuid": "00000000-0000-4000-8000-000000000000",
    "uri": "https://example.com",
    "binary": "",
}


class SchemaExamples:
    """Resolves `$ref`s against the document's components."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.schemas: dict[str, Any] = document.get("components", {}).get("schemas", {})

    def resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            schema = self.schemas[schema["$ref"].rsplit("/", 1)[-1]]
        return schema

    def example(self, schema: dict[str, Any], depth: int = 0) -> Any:
        schema = self.resolve(schema)
        if "example" in schema:
            return schema["example"]
        if schema.get("examples"):
            return schema["examples"][0]
        if "default" in schema:
            return schema["default"]
        if "const" in schema:
            return schema["const"]
        if schema.get("enum"):
            return schema["enum"][0]
        for combinator in ("anyOf", "oneOf", "allOf"):
            if combinator in schema:
                choices = [choice for choice in schema[combinator] if choice.get("type") != "null"]
                return self.example(choices[0], depth) if choices else None
        return self._typed(schema, depth)

    def properties(self, schema: dict[str, Any], depth: int = 0) -> dict[str, Any]:
        """Every property of an object schema with its example."""
        schema = self.resolve(schema)
        return {
            name: self.example(prop, depth + 1)
            for name, prop in schema.get("properties", {}).items()
        }

    def _typed(self, schema: dict[str, Any], depth: int) -> Any:
        kind = schema.get("type")
        if kind == "object" or "properties" in schema:
            return self.properties(schema, depth) if depth < MAX_DEPTH else {}
        if kind == "array":
            items = schema.get("items")
            return [self.example(items, depth + 1)] if items and depth < MAX_DEPTH else []
        if kind == "integer":
            return int(_lowest(schema))
        if kind == "number":
            return _lowest(schema)
        if kind == "boolean":
            return False
        if kind == "string":
            text = _FORMATS.get(schema.get("format", ""), "string")
            return text.ljust(schema.get("minLength", 0), "x")
        return None


def _lowest(schema: dict[str, Any]) -> float:
    """1 where the bounds allow it, else the nearest bound."""
    if "minimum" in schema:
        floor = schema["minimum"]
    elif "exclusiveMinimum" in schema:
        floor = schema["exclusiveMinimum"] + 1
    else:
        floor = 1
    return min(max(floor, 1), schema.get("maximum", max(floor, 1)))
