"""First contact with a new export (issue 13): what its mapping needs, and problems grouped by value.

- groups.py: findings grouped by (rule, file, column, distinct value), with counts and first rows;
- check.py: `sdtm-lupus mapping check` (read + map, nothing written) and the YAML that would map the unknowns;
- draft.py: `sdtm-lupus mapping draft`, a starting mapping for an unseen CSV export.
"""
