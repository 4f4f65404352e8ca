"""Periodic reports: definitions as data, their sections computed from the stored figures, DOCX and PDF.

- :mod:`~layers.reporting.definitions` — what each report is, for which period, due when;
- :mod:`~layers.reporting.document` — the report as plain data (sections of text, tables, figures);
- :mod:`~layers.reporting.sections` — one builder per section code, from snapshots and history;
- :mod:`~layers.reporting.docx_writer` — the report as a Word document in Chinese official style;
- :mod:`~layers.reporting.pdf_writer` — the same report as an A4 PDF drawn with matplotlib;
- :mod:`~layers.reporting.service` — the one service for snapshots, generating and submitting reports, each
  audited once (the command line and the pages call it);
- :mod:`~layers.reporting.status` — district × report: submitted on time, late, not yet due, overdue
  (``status.yaml`` for the states' names and colours);
- :mod:`~layers.reporting.definition_admin` — the administrator's local values of the definitions, with history.
"""
