"""The JSON API against its own OpenAPI schema (schemathesis, in-process over ASGI), as the
facilitator with a personal token, on a cycle with records of every kind: no request, valid
or not, may answer 5xx, and every answer must match the schema (status, content type, body).

Bounded: at most 25 examples per operation, derandomised, so it runs the same each time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from review_engine.core.domain import SharingLevel
from review_engine.runtime import Runtime
from review_engine.services import actions, signin, visits
from review_engine.testing import FakeClock
from review_engine.web.app import create_app
from tests.conftest import FACILITATOR
from tests.integration.phase_helpers import (
    CYCLE,
    HEADS,
    VISIT_DAYS,
    at,
    plan_visit,
    publish_writeup,
    set_rotation_triads,
    submit_sef,
)

URNS = sorted(HEADS)
HOST = URNS[0]  # the example URN in the schema (990101) has every kind of record
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
EXAMPLES = 25  # per operation, shared between the kinds of data below


@pytest.fixture
def api_schema(cycle_rt: Runtime, clock: FakeClock) -> Iterator[schemathesis.schemas.BaseSchema]:
    """The app over a cycle where the example school has a SEF, a held visit, a published
    write-up and an action."""
    triads = set_rotation_triads(cycle_rt, CYCLE, URNS)
    submit_sef(cycle_rt, CYCLE, HOST)
    plan_visit(cycle_rt, CYCLE, HOST, VISIT_DAYS[0])
    clock.set(at(VISIT_DAYS[0]))
    visits.complete(cycle_rt.acting_as(HEADS[HOST]), cycle=CYCLE, host=HOST)
    publish_writeup(cycle_rt, CYCLE, HOST, triads[HOST], SharingLevel.CLUSTER)
    actions.add_action(
        cycle_rt.acting_as(HEADS[HOST]),
        cycle=CYCLE,
        urn=HOST,
        ebi=1,
        title="Keep-up sessions",
        owner="English lead",
        success_criteria="Seen in every class",
        due=date(2027, 3, 1),
    )
    app = create_app(cycle_rt.settings, clock=cycle_rt.clock)
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    yield schema
    app.state.runtime.db.engine.dispose()


def bounded(examples: int) -> settings:
    return settings(
        max_examples=examples,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )


def test_the_api_keeps_to_its_schema(
    api_schema: schemathesis.schemas.BaseSchema, cycle_rt: Runtime
) -> None:
    """Every operation with valid data, with invalid data, and (where the path names a cycle
    or a school) with the real cycle and school in the path, so bodies and queries reach
    real records; there, each request is also sent without the token (it must be refused)."""
    token: list[str] = []
    answered: dict[str, set[int]] = {}

    def call(case: schemathesis.Case, *, auth_check: bool) -> None:
        if not token:  # again after a generated DELETE /tokens/{id} revoked the one in use
            raw, _ = signin.create_api_token(cycle_rt.acting_as(FACILITATOR), name="schemathesis")
            token.append(raw)
        response = case.call_and_validate(
            headers={"Authorization": f"Bearer {token[0]}"},
            checks=[*CHECKS, ignored_auth] if auth_check else CHECKS,
        )
        answered.setdefault(case.operation.label, set()).add(response.status_code)
        if case.method.upper() == "DELETE":
            token.clear()

    def fuzz(strategy: Any, examples: int, auth_check: bool) -> Callable[[], None]:
        @bounded(examples)
        @given(case=strategy)
        def run(case: schemathesis.Case) -> None:
            call(case, auth_check=auth_check)

        return run

    failures: list[str] = []
    operations = [result.ok() for result in api_schema.get_all_operations()]  # type: ignore[union-attr]
    assert len(operations) >= 15
    for operation in operations:
        names = {p.name for p in operation.path_parameters}
        real = {k: v for k, v in {"cycle": CYCLE, "urn": HOST}.items() if k in names}
        runs = [
            (operation.as_strategy(GenerationMode.NEGATIVE), EXAMPLES * 2 // 5, False),
            (operation.as_strategy(path_parameters=real), EXAMPLES * 2 // 5, True),
        ]
        runs.append((operation.as_strategy(GenerationMode.POSITIVE), EXAMPLES // 5, False))
        for strategy, examples, auth_check in runs:
            try:
                fuzz(strategy, examples, auth_check)()
            except (Exception, BaseExceptionGroup) as exc:
                failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)
    # The fuzzing reached real records: every read answered 200 at least once.
    reads = [o.label for o in operations if o.method.upper() == "GET"]
    assert all(200 in answered.get(label, set()) for label in reads), answered
