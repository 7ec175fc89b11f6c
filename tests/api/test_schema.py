"""The OpenAPI contract: it generates without a warning, it is public, it documents the bearer token and
the simulator, and its Swagger UI loads nothing from another host."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def test_the_schema_generates_and_validates_without_a_warning(tmp_path):
    path = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(path))
    assert path.read_text().startswith("openapi: 3.")


@pytest.fixture
def schema() -> dict:
    response = APIClient().get("/api/schema/", {"format": "json"})  # anonymous: the schema holds no data
    assert response.status_code == 200
    return response.json()


def test_the_schema_is_public_and_says_what_the_api_is(schema):
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "LaMP pilot platform API"
    assert schema["info"]["version"]
    assert "detail" in schema["info"]["description"]  # the one error shape


def test_the_bearer_token_is_a_documented_security_scheme(schema):
    assert schema["components"]["securitySchemes"]["tokenAuth"]["type"] == "http"
    assert schema["components"]["securitySchemes"]["tokenAuth"]["scheme"] == "bearer"
    simulate = schema["paths"]["/api/v1/contracts/simulate/"]["post"]
    assert {"tokenAuth": []} in simulate["security"]


def test_the_simulator_has_request_and_response_schemas_with_examples(schema):
    simulate = schema["paths"]["/api/v1/contracts/simulate/"]["post"]
    body = simulate["requestBody"]["content"]["application/json"]
    assert set(body["schema"]["required"]) == {"currency", "start", "end", "tranches", "metrics", "claims"}
    assert body["examples"]
    ok = simulate["responses"]["200"]["content"]["application/json"]
    assert "tranches" in ok["schema"]["properties"] and ok["examples"]
    assert "errors" in simulate["responses"]["400"]["content"]["application/json"]["schema"]["properties"]


def test_the_docs_page_loads_only_local_files(client):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger" in html.lower()
    references = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)
    assert references, html
    assert not [url for url in references if not url.startswith("/")], references
    assert not re.search(r"https?://", html), "the docs page names another host"
    for url in references:
        assert client.get(url).status_code == 200, url  # served from drf-spectacular-sidecar's static files
    assert '"/api/schema/"' in html
