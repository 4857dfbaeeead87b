"""HaloPSA's error bodies vary by endpoint and version; each reads as HaloPSA's own words."""

from __future__ import annotations

import pytest

from halosync_halopsa.answers import indexed_errors, message_of


@pytest.mark.parametrize(("body", "expected"), [
    ({"[3].emailaddress": "The emailaddress field is not a valid e-mail address."},
     {3: "emailaddress: The emailaddress field is not a valid e-mail address."}),
    ({"title": "One or more validation errors occurred.", "status": 400,
      "errors": {"$[0].site_id": ["The JSON value could not be converted to System.Int32."], "[2]": ["bad"]}},
     {0: "site_id: The JSON value could not be converted to System.Int32.", 2: "bad"}),
    ({"[1].name": "required", "[1].site_id": "required"}, {1: "name: required; site_id: required"}),
    ({"ClassName": "HaloException", "Message": "CODE:APP03/2 nope"}, {}),
    ("Rate Limit Reached - 300 Requests per rolling 5 minute window", {}),
])
def test_index_keyed_errors(body: object, expected: dict[int, str]) -> None:
    assert indexed_errors(body) == expected


@pytest.mark.parametrize(("body", "expected"), [
    ({"error": "invalid_client"}, "invalid_client"),
    ({"error": "invalid_scope", "error_description": "admin not allowed"}, "admin not allowed; invalid_scope"),
    ({"ClassName": "HaloException", "Message": "CODE:APP03/2 nope"}, "CODE:APP03/2 nope"),
    ({"ClassName": "HaloException"}, "HaloException"),
    ({"insufficient": True}, "insufficient: True"),
    ({"resultCode": 7, "errorMessage": "Client not found"}, "Client not found"),
    ("  Rate Limit Reached -\n 300 Requests  ", "Rate Limit Reached - 300 Requests"),
    ("", "(no message)"),
    ("x" * 400, "x" * 300 + "..."),
])
def test_messages_are_one_line_of_halopsas_words(body: object, expected: str) -> None:
    assert message_of(body) == expected
