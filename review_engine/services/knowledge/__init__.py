"""Inside Knowledge's services: a national prospectus of host-school visits, with booking and
feedback, on the same engine as the review cycles (a programme-kind workflow,
`workflows/inside-knowledge.yaml`).

One module per area, imported on use: `programme` (programmes, topics, stakeholders),
`nominations`, `offers` (and `offer_page`, one offer as each reader sees it), `prospectus`
(public search), `bookings`, `agenda`, `feedback`,
`report` (the quality report and the host's visit pack) and `reminders` (visit, feedback and
reflection reminders through the outbox). Every state change of an offer or a booking fires
through `_engine.fire` (the workflow's guards and `actors:`), which writes the new state with a
version check and appends an `ik_transition` row in the same transaction. What they return is
in `views`. See docs/inside-knowledge.md.
"""

__all__ = [
    "agenda",
    "bookings",
    "feedback",
    "mine",
    "nominations",
    "offer_page",
    "offers",
    "programme",
    "prospectus",
    "reminders",
    "report",
    "views",
]
