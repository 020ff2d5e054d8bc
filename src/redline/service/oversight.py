"""The live oversight view: the report's figures from the audit log in force, and receipts.

What the ``auditor`` role reads (``/redline/v1/oversight``). The report is built exactly as
``redline report`` builds it from an export (same figures, same layout, same HTML), from the
entries covered by the latest signed checkpoint, so an auditor can compare it with a report
from an export of the same checkpoint. A receipt is the ``c2sp.org/tlog-proof@v1`` proof
(signed checkpoint plus inclusion proof) of the last event logged for a request id, which
``redline audit verify DIR --receipt FILE`` checks offline.

Read-only: nothing here appends to the log (signing a checkpoint of the entries already
written is not a change to the log).
"""

from __future__ import annotations

import base64

from redline.audit import AuditLog, decode_record
from redline.errors import ReceiptNotFound
from redline.report import Report, build_report, compute_figures, render_html

__all__ = ["Oversight"]


class Oversight:
    """Live report and receipts over the gateway's audit log."""

    def __init__(self, log: AuditLog) -> None:
        self._log = log

    async def report_html(self) -> bytes:
        """The oversight report (HTML) of every entry up to the latest signed checkpoint.

        Raises:
            AuditError: the log cannot sign a checkpoint or read its entries.
        """
        return render_html(await self.report())

    async def report(self) -> Report:
        """The report model (what the HTML and the console page show).

        Raises:
            AuditError: the log cannot sign a checkpoint or read its entries.
        """
        note = (await self._log.checkpoint()).decode("utf-8")
        origin, size_text, root_b64 = note.split("\n", 3)[:3]
        size = int(size_text)
        records = [decode_record(e) for e in await self._log.entries(0, size)]
        return build_report(
            compute_figures(records),
            origin=origin,
            size=size,
            root_hex=base64.b64decode(root_b64).hex(),
            period="start of log to checkpoint (live)",
        )

    async def receipt(self, request_id: str) -> bytes:
        """The tlog-proof receipt of the last event logged for ``request_id``.

        Raises:
            ReceiptNotFound: no event was logged for ``request_id``.
            AuditError: no checkpoint can be signed, or the proof cannot be built.
        """
        found = await self._log.find_request(request_id)
        if not found:
            raise ReceiptNotFound(f"no decision is logged for request {request_id}")
        return (await self._log.receipt(found[-1])).encode()
