"""The report stage: ``results.json`` (a contract other tools read) and ``report.md``."""

from dapt.report.markdown import render_report
from dapt.report.results import build_results

__all__ = ["build_results", "render_report"]
