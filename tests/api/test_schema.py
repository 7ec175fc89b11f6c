"""The OpenAPI contract: it generates without a warning, it is public, it documents the bearer token and
the simulator, and its Swagger UI loads nothing from another host. Every operation has examples of its
request and success answer, documents its error answers (401, 429, 404, the Idempotency-Key's) in the one
error shape, and every JSON example fits the schema it illustrates."""

from __future__ import annotations

import json
import re

import pytest
from django.core.management import call_command
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
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
    refused = simulate["responses"]["400"]["content"]["application/json"]
    assert refused["schema"] == {"$ref": "#/components/schemas/Error"} and refused["examples"]
    assert {"detail", "errors"} <= set(schema["components"]["schemas"]["Error"]["properties"])


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
    # The start-up script is a file of its own (no inline script under the CSP), naming the schema's URL.
    assert '<script src="/api/docs/?script="></script>' in html
    assert '"/api/schema/"' in client.get("/api/docs/?script=").content.decode()


# --- Every operation is documented with examples, and every example fits its schema ---------------------

METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture(scope="module")
def generated() -> dict:
    """The schema as ``/api/schema/`` serves it, generated once for the checks below (it reads no data)."""
    return json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))


def operations(schema: dict) -> list[tuple[str, str, dict]]:
    return [
        (method.upper(), path, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def examples_of(content: dict) -> dict:
    return {
        f"{media_type}:{name}": example
        for media_type, media in content.items()
        for name, example in (media.get("examples") or {}).items()
    }


def test_the_schema_has_operations_to_check(generated):
    schema = generated
    assert len(operations(schema)) >= 25


def test_every_operation_has_an_example_of_its_success_answer_and_of_its_request_body(generated):
    schema = generated
    missing = []
    for method, path, operation in operations(schema):
        successes = {code: answer for code, answer in operation["responses"].items() if code.startswith("2")}
        assert successes, f"{method} {path} documents no success"
        for code, answer in successes.items():
            if "content" in answer and not examples_of(answer["content"]):
                missing.append(f"{method} {path} → {code}")
        body = operation.get("requestBody")
        if body is not None:
            content = body["content"]
            if not examples_of(content):
                missing.append(f"{method} {path} request body")
            elif "application/json" in content and not content["application/json"].get("examples"):
                missing.append(f"{method} {path} request body (JSON)")
    assert not missing, "operations without examples:\n" + "\n".join(missing)


def test_every_error_answer_has_the_error_shape_and_an_example(generated):
    schema = generated
    components = schema["components"]["schemas"]
    problems = []
    for method, path, operation in operations(schema):
        documented = operation["responses"]
        expected = {"401", "429"} | ({"404"} if "{" in path else set())
        if method == "POST":
            expected |= {"400", "409", "422"}
            if not any(p["in"] == "header" and p["name"] == "Idempotency-Key" for p in operation["parameters"]):
                problems.append(f"{method} {path}: no Idempotency-Key header")
        if method in ("PUT", "PATCH"):
            expected.add("400")
        problems += [f"{method} {path}: {code} undocumented" for code in sorted(expected - set(documented))]
        if "Retry-After" not in documented.get("429", {}).get("headers", {}):
            problems.append(f"{method} {path}: 429 without Retry-After")
        for code, answer in documented.items():
            if not code.startswith("4"):
                continue
            media = answer.get("content", {}).get("application/json")
            if media is None:
                problems.append(f"{method} {path} → {code}: no JSON body")
                continue
            shape = media["schema"]
            if "$ref" in shape:
                shape = components[shape["$ref"].rsplit("/", 1)[-1]]
            if not {"detail", "errors"} <= set(shape.get("properties", {})):
                problems.append(f"{method} {path} → {code}: not the error shape")
            if not media.get("examples"):
                problems.append(f"{method} {path} → {code}: no example")
    assert not problems, "\n".join(problems)


def _strict(node: object, defs: dict, *, direction: str) -> object:
    """An OpenAPI 3.0 schema as JSON Schema (2020-12) for one direction: ``nullable`` as a null type, refs to
    ``$defs``, properties of the other direction dropped, and no properties beyond those declared (so that
    a misspelt field in an example is caught)."""
    if isinstance(node, list):
        return [_strict(item, defs, direction=direction) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return {"$ref": "#/$defs/" + node["$ref"].rsplit("/", 1)[-1]}
    hidden = "writeOnly" if direction == "response" else "readOnly"
    result = {}
    for key, value in node.items():
        if key in ("nullable", "example", "readOnly", "writeOnly", "x-spec-enum-id", "discriminator"):
            continue
        if key == "properties":
            value = {name: prop for name, prop in value.items() if not prop.get(hidden)}
            result[key] = {name: _strict(prop, defs, direction=direction) for name, prop in value.items()}
            continue
        result[key] = _strict(value, defs, direction=direction)
    if "properties" in node:
        visible = set(result["properties"])
        if "required" in result:
            result["required"] = [name for name in result["required"] if name in visible]
        result.setdefault("additionalProperties", False)
    if node.get("format") == "binary":
        result.pop("format")
    if node.get("nullable"):
        return {"anyOf": [result, {"type": "null"}]}
    return result


def validator_for(schema: dict, shape: dict, direction: str):  # noqa: ANN201
    from jsonschema import Draft202012Validator

    components = schema["components"]["schemas"]
    defs: dict = {}
    defs.update({name: _strict(component, defs, direction=direction) for name, component in components.items()})
    root = {"$defs": defs, **_strict(shape, defs, direction=direction)}
    return Draft202012Validator(root, format_checker=Draft202012Validator.FORMAT_CHECKER)


def test_every_json_example_fits_the_schema_it_illustrates(generated):
    schema = generated
    failures = []

    def check(where: str, media: dict, direction: str) -> None:
        validator = validator_for(schema, media["schema"], direction)
        for name, example in (media.get("examples") or {}).items():
            for error in validator.iter_errors(example["value"]):
                failures.append(f"{where} example {name!r}: {error.json_path}: {error.message[:200]}")

    for method, path, operation in operations(schema):
        body = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if body is not None:
            check(f"{method} {path} request", body, "request")
        for code, answer in operation["responses"].items():
            media = answer.get("content", {}).get("application/json")
            if media is not None:
                check(f"{method} {path} → {code}", media, "response")
    assert not failures, "\n".join(failures)
