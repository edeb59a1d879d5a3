"""Fixtures of the phase and confidentiality tests (defined in phase_helpers): a database
built once per module and backend, and copied for each test."""

from tests.integration.phase_helpers import cycle_rt, cycle_template, module_clock, module_rt

__all__ = ["cycle_rt", "cycle_template", "module_clock", "module_rt"]
