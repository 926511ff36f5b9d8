"""The reply schemas accept valid replies and reject invalid ones with a usable message."""

import json
from typing import Any

import pytest
from pydantic import ValidationError

from schemas import Draft, ExtractionReply

VALID: dict[str, Any] = {
    "summary": "The council approved a new budget on Monday.",
    "claims": [
        {"evidence": [1], "kind": "figure"},
        {"evidence": [2], "kind": "fact"},
        {"evidence": [3], "kind": "quote"},
    ],
}


def test_valid_extraction_parses() -> None:
    extraction = ExtractionReply.model_validate_json(
        json.dumps(VALID), context={"sentence_ids": {1, 2, 3}}
    )
    assert [c.evidence for c in extraction.claims] == [[1], [2], [3]]
    assert extraction.claims[0].kind == "figure"


def test_evidence_must_name_existing_sentences() -> None:
    with pytest.raises(
        ValidationError, match=r"sentence ids \[3\].*cite only ids given in brackets"
    ):
        ExtractionReply.model_validate_json(json.dumps(VALID), context={"sentence_ids": {1, 2}})


@pytest.mark.parametrize(
    "broken",
    [
        "not json",
        json.dumps({**VALID, "claims": []}),
        json.dumps({**VALID, "claims": [{**VALID["claims"][0], "kind": "rumour"}]}),
        json.dumps({**VALID, "claims": [{**VALID["claims"][0], "evidence": []}]}),
        json.dumps({**VALID, "claims": [{**VALID["claims"][0], "text": "a copy"}]}),
        json.dumps({**VALID, "claims": [{**VALID["claims"][0], "evidence": [1, 2]}]}),
        json.dumps({**VALID, "extra": 1}),
    ],
    ids=[
        "not-json",
        "no-claims",
        "bad-kind",
        "no-evidence",
        "copied-text",
        "two-sentences",
        "extra-key",
    ],
)
def test_invalid_extractions_are_rejected(broken: str) -> None:
    with pytest.raises(ValidationError):
        ExtractionReply.model_validate_json(broken, context={"sentence_ids": {1, 2, 3}})


def test_schema_documents_every_field() -> None:
    schema = ExtractionReply.model_json_schema()
    claim = schema["$defs"]["ClaimPick"]["properties"]
    assert all("description" in field for field in claim.values())
    assert schema["properties"]["claims"]["maxItems"] == 5


DRAFT: dict[str, Any] = {
    "title": "Council passes budget",
    "lede": [{"claims": ["c1"], "text": "The council passed a $4 million budget."}],
    "sections": [
        {
            "heading": "Vote",
            "sentences": [{"claims": ["c2", "c1"], "text": "The mayor welcomed the vote."}],
        }
    ],
}


def test_draft_with_known_claims_parses() -> None:
    draft = Draft.model_validate_json(json.dumps(DRAFT), context={"claim_ids": {"c1", "c2"}})
    assert len(draft.all_sentences()) == 2


def test_draft_naming_unknown_claims_is_rejected() -> None:
    with pytest.raises(ValidationError, match=r"claim ids \['c2'\] that do not exist"):
        Draft.model_validate_json(json.dumps(DRAFT), context={"claim_ids": {"c1"}})


def test_draft_sentence_needs_a_claim() -> None:
    broken = {**DRAFT, "lede": [{"claims": [], "text": "The council passed a budget."}]}
    with pytest.raises(ValidationError):
        Draft.model_validate_json(json.dumps(broken))
