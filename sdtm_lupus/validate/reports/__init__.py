"""The validation report of a run: validation.json (build.py), rendered as validation.html (html.py)
and validation.xlsx (xlsx.py) from the model both share (model.py); terminal lines (text.py)."""

from sdtm_lupus.validate.reports.model import HTML_FILE, REPORT_FILES, XLSX_FILE, write_reports

__all__ = ["HTML_FILE", "REPORT_FILES", "XLSX_FILE", "write_reports"]
