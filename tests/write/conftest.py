from tests.write.submission_runs import submission_runs, xpt_only_run  # noqa: F401  (session fixtures)
