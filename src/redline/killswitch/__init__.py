"""The kill switch: halt traffic (all, a tenant, a model) at once; resume with two people.

* :mod:`~redline.killswitch.state` - the halt state and its transitions (pure);
* :mod:`~redline.killswitch.service` - :class:`HaltService`: enforcement on every request,
  audited halts and resumes, broadcast to every replica;
* :mod:`~redline.killswitch.stores` - where the state lives (SQLite in the data directory,
  or PostgreSQL) and how changes are announced (PostgreSQL NOTIFY, Redis pub/sub).
"""

from __future__ import annotations

from redline.killswitch.state import Halt, HaltState, ResumeOutcome, parse_scope

__all__ = ["Halt", "HaltState", "ResumeOutcome", "parse_scope"]
