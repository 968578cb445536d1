"""Raw dates and times (as the mapping formats them) to ISO 8601, partial dates truncated."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

import pandas as pd

from sdtm_lupus.config.mapping import DateFormat, TimeFormat
from sdtm_lupus.readers.cells import non_ascii

MONTHS = {m.upper(): i for i, m in enumerate(calendar.month_abbr) if m}
ISO_PARTIAL = re.compile(r"^(?P<y>\d{4})(-(?P<m>\d{2})(-(?P<d>\d{2}))?)?$", re.ASCII)
BLANKS = " \t\r\n"     # only ASCII blanks are trimmed: a no-break space is not a blank here
# Years a date may have (MAP-DATE-RANGE, sdtm/parse.py); birth dates may be earlier (a warning).
FIRST_YEAR, LAST_YEAR = 1900, 2100


@dataclass(frozen=True)
class ParsedDate:
    iso: str | None          # ISO 8601, truncated when partial; None when empty or invalid
    problem: str | None = None  # why the raw text is not a valid (partial) date
    partial: bool = False


def _pattern(fmt: DateFormat) -> re.Pattern[str]:
    if fmt.format == "ISO8601":
        return ISO_PARTIAL
    tokens = {
        "DD": rf"(?P<d>\d{{1,2}}|{re.escape(fmt.unknown_day)})",
        "MMM": rf"(?P<mon>[A-Za-z]{{3}}|{re.escape(fmt.unknown_month)})",
        "MM": rf"(?P<m>\d{{1,2}}|{re.escape(fmt.unknown_month)})",
        "YYYY": rf"(?P<y>\d{{4}}|{re.escape(fmt.unknown_year)})",
    }
    parts = re.split(r"(YYYY|MMM|MM|DD)", fmt.format)
    return re.compile("^" + "".join(tokens.get(p, re.escape(p)) for p in parts) + "$", re.ASCII)


def _unreadable(what: str, fmt: str, text: str) -> str:
    """Why text is not a date/time; names non-ASCII characters (full-width digits, no-break space...)."""
    odd = non_ascii(text)
    return f"not a {what} in the format {fmt}" + (f": it contains {odd} (only ASCII digits and letters are read)"
                                                  if odd else "")


def parse_date(text: str, fmt: DateFormat, pattern: re.Pattern[str] | None = None) -> ParsedDate:
    text = text.strip(BLANKS)
    if not text:
        return ParsedDate(None)
    match = (pattern or _pattern(fmt)).match(text)
    if not match:
        return ParsedDate(None, _unreadable("date", fmt.format, text))
    g = match.groupdict()
    year = g.get("y")
    month = g.get("mon") or g.get("m")
    day = g.get("d")
    unknown = {fmt.unknown_year, fmt.unknown_month, fmt.unknown_day, None}
    if year in unknown:
        return ParsedDate(None, None, partial=True)  # fully unknown: no ISO value
    y = int(year)
    if month in unknown:
        if day not in unknown:
            return ParsedDate(str(y), "day known but month unknown: kept as year only", partial=True)
        return ParsedDate(f"{y:04d}", partial=True)
    m = MONTHS.get(month.upper()) if g.get("mon") else int(month)
    if not m or not 1 <= m <= 12:
        return ParsedDate(None, f"month {month!r} does not exist")
    if day in unknown:
        return ParsedDate(f"{y:04d}-{m:02d}", partial=True)
    d = int(day)
    if not 1 <= d <= calendar.monthrange(y, m)[1]:
        return ParsedDate(None, f"day {d} does not exist in {calendar.month_abbr[m]} {y}")
    return ParsedDate(date(y, m, d).isoformat())


def parse_dates(values: pd.Series, fmt: DateFormat) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Vectorised parse_date: (iso, problem, partial) series; each distinct text parsed once."""
    pattern = _pattern(fmt)
    parsed = {v: parse_date(v, fmt, pattern) for v in pd.unique(values)}
    results = [parsed[v] for v in values]
    iso = pd.Series([r.iso for r in results], index=values.index, dtype=object)
    problem = pd.Series([r.problem for r in results], index=values.index, dtype=object)
    partial = pd.Series([r.partial for r in results], index=values.index, dtype=bool)
    return iso, problem, partial


TIME_PATTERNS = {
    "HH:MM": re.compile(r"^(?P<h>\d{1,2}):(?P<mi>\d{2})$", re.ASCII),
    "HH:MM:SS": re.compile(r"^(?P<h>\d{1,2}):(?P<mi>\d{2}):(?P<s>\d{2})$", re.ASCII),
    "HHMM": re.compile(r"^(?P<h>\d{2})(?P<mi>\d{2})$", re.ASCII),
}


def parse_time(text: str, fmt: TimeFormat) -> tuple[str | None, str | None]:
    """(ISO time HH:MM[:SS] or None, problem or None)."""
    text = text.strip(BLANKS)
    if not text:
        return None, None
    match = TIME_PATTERNS[fmt.format].match(text)
    if not match:
        return None, _unreadable("time", fmt.format, text)
    h, mi, s = int(match["h"]), int(match["mi"]), match.groupdict().get("s")
    if h > 23 or mi > 59 or (s is not None and int(s) > 59):
        return None, "time does not exist"
    return f"{h:02d}:{mi:02d}" + (f":{s}" if s is not None else ""), None


def combine(date_iso: str | None, time_iso: str | None) -> str | None:
    """ISO date + time -> datetime; a time without a full date is dropped."""
    if date_iso is None:
        return None
    if time_iso is None or len(date_iso) != 10:
        return date_iso
    return f"{date_iso}T{time_iso}"


def to_date(iso: str | None) -> date | None:
    """The calendar date of a complete ISO date/datetime; None when partial or missing."""
    if not iso or len(iso) < 10:
        return None
    return date.fromisoformat(iso[:10])
