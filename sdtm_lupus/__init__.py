"""sdtm-lupus: raw lupus trial site exports to validated CDISC SDTM/ADaM XPT v5."""

__version__ = "0.1.0"
