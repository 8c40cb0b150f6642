"""The work of one request is bounded: an ad-hoc text is embedded while the caller waits, so it
is capped, and the cap is named in the answer; a text at the cap is matched."""

from __future__ import annotations

from fastapi.testclient import TestClient

from service.store.models import MAX_ADHOC_CHARS
from tests.factories import FORKLIFT_CV


def _text(n: int) -> str:
    return (FORKLIFT_CV + " ") * (n // (len(FORKLIFT_CV) + 1)) + "x" * (n % (len(FORKLIFT_CV) + 1))


def test_ad_hoc_text_is_capped_and_the_cap_is_named(client: TestClient) -> None:
    for target in ("candidates", "vacancies"):
        over = client.post("/v1/match", json={"target": target, "text": _text(MAX_ADHOC_CHARS + 1)})
        assert over.status_code == 422, over.text
        [detail] = over.json()["detail"]
        assert detail["field"] == "text" and f"{MAX_ADHOC_CHARS}" in detail["message"]
        at_cap = client.post("/v1/match", json={"target": target, "text": _text(MAX_ADHOC_CHARS)})
        assert at_cap.status_code == 200, at_cap.text


def test_the_cap_is_in_the_openapi_document(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()["components"]["schemas"]["AdHocMatchIn"]
    assert schema["properties"]["text"]["maxLength"] == MAX_ADHOC_CHARS
