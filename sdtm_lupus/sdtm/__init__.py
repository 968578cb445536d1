"""Map stage: Forms -> SDTM datasets. The stage runs in map.py; one module per domain; shared helpers
(parse.py: typed cells, map_context.py: configuration and findings of a run, builder_state.py: what
the domain builders share, dates.py, visits.py, timing.py, numbers.py)."""

from sdtm_lupus.sdtm.map import DOMAINS, finish_dataset, map_sdtm, number_visits, reconcile

__all__ = ["DOMAINS", "finish_dataset", "map_sdtm", "number_visits", "reconcile"]
