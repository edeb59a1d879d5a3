"""Names and values of the domain: enums with the domain's words, and small frozen values."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """What a person is in the programme."""

    HEAD = "head"
    DEPUTY = "deputy"
    SENIOR_LEADER = "senior_leader"
    FACILITATOR = "facilitator"
    ADMIN = "admin"  # a programme admin: schools, calendars, facilitators, clusters

    @property
    def is_school_staff(self) -> bool:
        return self in (Role.HEAD, Role.DEPUTY, Role.SENIOR_LEADER)


class HalfTerm(StrEnum):
    """The six half-terms of the English school year, in order."""

    AUTUMN_1 = "Autumn 1"
    AUTUMN_2 = "Autumn 2"
    SPRING_1 = "Spring 1"
    SPRING_2 = "Spring 2"
    SUMMER_1 = "Summer 1"
    SUMMER_2 = "Summer 2"

    @property
    def position(self) -> int:
        return list(HalfTerm).index(self)


class Rag(StrEnum):
    """Red / amber / green status of a support action, plus complete."""

    RED = "red"
    AMBER = "amber"
    GREEN = "green"
    COMPLETE = "complete"


class SharingLevel(StrEnum):
    """How far a published write-up is shared, as the host chooses."""

    REVIEWERS = "reviewers"
    CLUSTER = "cluster"
    NAMED = "named"


class VisitFocus(StrEnum):
    LEARNING_WALK = "learning_walk"
    JOINT_LESSON_OBSERVATIONS = "joint_lesson_observations"
    SUBJECT_LEADER_INTERVIEWS = "subject_leader_interviews"
    WORK_SCRUTINY = "work_scrutiny"
    PUPIL_VOICE = "pupil_voice"
    DATA_REVIEW = "data_review"
    OTHER = "other"


class Slot(StrEnum):
    """Half-day slot of a visit."""

    MORNING = "morning"
    AFTERNOON = "afternoon"


class Scope(StrEnum):
    """What a workflow machine runs on: the whole cycle, or each school in it."""

    CYCLE = "cycle"
    SCHOOL = "school"
