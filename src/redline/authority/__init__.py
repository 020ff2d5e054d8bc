"""Legal authorities requests cite: the signed register and the check against it.

* :mod:`redline.authority.register` - the register file (parse, write, entries);
* :mod:`redline.authority.check` - cited references -> :class:`~redline.domain.OversightFacts`;
* :mod:`redline.authority.runtime` - the verified register in force, reloaded and audited.
"""

from __future__ import annotations

from redline.authority.check import check_authorities
from redline.authority.register import Authority, Register, format_time, parse_register
from redline.authority.runtime import RegisterInForce, load_signed_register

__all__ = [
    "Authority",
    "Register",
    "RegisterInForce",
    "check_authorities",
    "format_time",
    "load_signed_register",
    "parse_register",
]
