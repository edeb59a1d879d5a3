"""Your personal API tokens: list, create (the token is shown once) and revoke."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, Field

from review_engine.core.safe_text import ID_MAX, NAME_MAX
from review_engine.runtime import Runtime
from review_engine.services import signin
from review_engine.web.api._common import API, ERRORS, GUARDS, Instant, Out, reading
from review_engine.web.session import acting

router = APIRouter(prefix=f"{API}/tokens", tags=["tokens"], responses=ERRORS, dependencies=GUARDS)


class Token(Out):
    id: int
    name: str
    created_at: Instant
    last_used_at: Instant | None
    revoked: bool


class NewToken(Token):
    token: str = Field(description="The token itself: shown this once, never again")


class TokenRequest(BaseModel):
    name: str = Field(
        min_length=1,
        max_length=NAME_MAX,
        description="What the token is for, e.g. 'MIS export'",
        examples=["MIS export"],
    )


TokenId = Annotated[int, Path(ge=1, le=ID_MAX, description="The token's number")]


@router.get("", response_model=list[Token], summary="Your tokens, revoked ones included")
def list_tokens(rt: Runtime = Depends(acting)) -> list[Token]:
    return [Token.model_validate(t) for t in signin.list_api_tokens(rt)]


@router.post(
    "",
    response_model=NewToken,
    status_code=201,
    summary="Make a token: copy it from the answer, it is not shown again",
)
def create_token(body: TokenRequest, rt: Runtime = Depends(acting)) -> NewToken:
    raw, view = signin.create_api_token(rt, name=body.name)
    return NewToken(token=raw, **Token.model_validate(view).model_dump())


@router.delete("/{token_id}", response_model=Token, summary="Revoke one of your tokens")
def revoke_token(token_id: TokenId, rt: Runtime = Depends(acting)) -> Token:
    with reading("API token"):
        return Token.model_validate(signin.revoke_api_token(rt, token_id=token_id))
