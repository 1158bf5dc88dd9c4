"""The report stage: ``results.json`` (a contract other tools read, with a JSON schema), ``report.md``,
``report.html`` and the figures."""

from dapt.report.markdown import render_report
from dapt.report.results import build_results, validate_results
from dapt.report.stage import report_stage

__all__ = ["build_results", "render_report", "report_stage", "validate_results"]
