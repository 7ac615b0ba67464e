"""The committed Postman files are what `make postman` writes from today's OpenAPI document."""

import json
from typing import Any

import pytest

from tools.openapi import openapi_document
from tools.postman import COLLECTION_FILE, ENVIRONMENT_FILE, rendered
from tools.postman_flows import FLOWS


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return openapi_document()


def test_postman_files_match_the_generator(document: dict[str, Any]):
    for path, text in rendered(document).items():
        assert path.exists(), f"{path.name} is missing: run `make postman`"
        current = path.read_text() == text
        assert current, f"{path.name} differs from what the generator writes: run `make postman`"


def test_collection_has_the_flow_folders_and_a_folder_per_tag(document: dict[str, Any]):
    collection = json.loads(COLLECTION_FILE.read_text())
    folders = [folder["name"] for folder in collection["item"]]
    assert folders[:2] == ["Purchase flow", "Repair flow"] == list(FLOWS)
    first_tags = {operation["tags"][0] for path_item in document["paths"].values()
                  for operation in path_item.values()}
    assert set(folders[2:]) == first_tags
    assert collection["auth"]["bearer"][0]["value"] == "{{ACCESS_TOKEN}}"
    requests = [item["request"] for folder in collection["item"] for item in folder["item"]]
    assert all(request["url"]["raw"].startswith("{{BASE_URL}}/") for request in requests)
    operations = sum(len(path_item) for path_item in document["paths"].values())
    assert len(requests) == operations + sum(len(steps) for steps in FLOWS.values())
    environment = {value["key"] for value in json.loads(ENVIRONMENT_FILE.read_text())["values"]}
    assert {"BASE_URL", "ADMIN_EMAIL", "ADMIN_PASSWORD", "ACCESS_TOKEN"} <= environment
