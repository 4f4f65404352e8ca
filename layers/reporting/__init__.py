"""Periodic reports: definitions as data, their sections computed from the stored figures, DOCX and PDF.

- :mod:`~layers.reporting.definitions` — what each report is, for which period, due when;
- :mod:`~layers.reporting.document` — the report as plain data (sections of text, tables, figures);
- :mod:`~layers.reporting.sections` — one builder per section code, from snapshots and history;
- :mod:`~layers.reporting.docx_writer` — the report as a Word document in Chinese official style;
- :mod:`~layers.reporting.pdf_writer` — the same report as an A4 PDF drawn with matplotlib.
"""
