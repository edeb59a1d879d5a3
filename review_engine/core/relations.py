"""How an actor stands to a record; workflow transitions list the relations that may fire them."""

from __future__ import annotations

from enum import StrEnum


class Relation(StrEnum):
    FACILITATOR = "facilitator"  # the cluster's facilitator
    SCHOOL = "school"  # staff of the school whose machine it is (the host, for visits)
    REVIEWER = "reviewer"  # staff of a school visiting this host in this cycle
    LEAD_REVIEWER = "lead_reviewer"  # staff of the lead visiting school
    CO_REVIEWER = "co_reviewer"  # staff of a visiting school that is not the lead
    SYSTEM = "system"  # the scheduler
