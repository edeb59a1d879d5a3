"""Names and values of the domain: enums with the domain's words, and small frozen values."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """What a person is in the programme.

    Only a school's head, deputy and senior leaders act for it in a cycle (`is_school_staff`);
    the other school roles (subject leader, teacher, teaching assistant, governor, improvement
    champion) belong to a school (`at_school`) and may take its notices, but see none of its
    cycle records. A programme lead reads every cluster's progress and changes nothing."""

    HEAD = "head"
    DEPUTY = "deputy"
    SENIOR_LEADER = "senior_leader"
    SUBJECT_LEADER = "subject_leader"
    TEACHER = "teacher"
    TEACHING_ASSISTANT = "teaching_assistant"
    GOVERNOR = "governor"
    IMPROVEMENT_CHAMPION = "improvement_champion"
    FACILITATOR = "facilitator"
    ADMIN = "admin"  # a programme admin: schools, calendars, facilitators, clusters
    PROGRAMME_LEAD = "programme_lead"  # read-only oversight of many clusters

    @property
    def is_school_staff(self) -> bool:
        """May act for their school in the cycle (SEF, visits, write-ups, support)."""
        return self in (Role.HEAD, Role.DEPUTY, Role.SENIOR_LEADER)

    @property
    def at_school(self) -> bool:
        """Belongs to a school (needs its URN), whether or not they act for it."""
        return self.is_school_staff or self in _READ_NOTHING_SCHOOL_ROLES

    @property
    def label(self) -> str:
        """The role in words: "Deputy head teacher"."""
        return _ROLE_LABELS[self]


_READ_NOTHING_SCHOOL_ROLES = frozenset(
    {
        Role.SUBJECT_LEADER,
        Role.TEACHER,
        Role.TEACHING_ASSISTANT,
        Role.GOVERNOR,
        Role.IMPROVEMENT_CHAMPION,
    }
)
_ROLE_LABELS = {
    Role.HEAD: "Head teacher",
    Role.DEPUTY: "Deputy head teacher",
    Role.SENIOR_LEADER: "Senior leader",
    Role.SUBJECT_LEADER: "Subject leader",
    Role.TEACHER: "Teacher",
    Role.TEACHING_ASSISTANT: "Teaching assistant",
    Role.GOVERNOR: "Governor",
    Role.IMPROVEMENT_CHAMPION: "Improvement champion",
    Role.FACILITATOR: "Facilitator",
    Role.ADMIN: "Programme admin",
    Role.PROGRAMME_LEAD: "Programme lead",
}


class NoticeKind(StrEnum):
    """The kinds of e-mail notice a person may take (each person chooses: at once, in a daily
    digest, or off). Every event notice belongs to one kind (`core.notices`)."""

    REMINDERS = "reminders"  # deadlines owed by the school: SEF, other dated work
    SEF_DECISIONS = "sef_decisions"  # the SEF accepted or returned
    TRIADS = "triads"  # the school's triad formed or changed, as host or visitor
    VISITS = "visits"  # visits dated, moved or cancelled, and reminders, with the invite
    WRITEUPS = "writeups"  # write-ups to agree, returned, published and shared with the school
    SUPPORT = "support"  # support plans to agree, actions assigned to or updated for the school
    FEEDBACK = "feedback"  # feedback on a visit and the later reflection, when due
    FACILITATOR = "facilitator"  # a facilitator's notices: SEFs submitted to accept or return

    @property
    def label(self) -> str:
        return _NOTICE_LABELS[self]

    @staticmethod
    def defaults_for(role: Role) -> frozenset[NoticeKind]:
        """What a person takes until they choose: the head every school notice, a facilitator
        the facilitator's, anyone else none (so a school gets one copy of each, as before,
        unless its staff opt in)."""
        if role is Role.HEAD:
            return frozenset(NoticeKind) - {NoticeKind.FACILITATOR}
        if role is Role.FACILITATOR:
            return frozenset({NoticeKind.FACILITATOR})
        return frozenset()


_NOTICE_LABELS = {
    NoticeKind.REMINDERS: "Reminders of the school's deadlines (SEF and other dated work)",
    NoticeKind.SEF_DECISIONS: "Decisions on the school's SEF (accepted or returned)",
    NoticeKind.TRIADS: "Triads: the schools that visit yours, and those yours visits",
    NoticeKind.VISITS: "Peer review visits dated, moved or cancelled, with the calendar invite",
    NoticeKind.WRITEUPS: "Write-ups to agree, returned, published or shared with the school",
    NoticeKind.SUPPORT: "Support plans to agree and support actions (as supporter too)",
    NoticeKind.FEEDBACK: "Feedback and reflections due on visits",
    NoticeKind.FACILITATOR: "Facilitator: SEFs submitted to accept or return",
}


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
