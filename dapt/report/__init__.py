"""The report stage: ``results.json`` (a contract other tools read, with a JSON schema), ``report.md``,
``report.html`` and the figures."""

from dapt.report.markdown import render_report
from dapt.report.results import build_results, validate_results

__all__ = ["build_results", "render_report", "validate_results"]
