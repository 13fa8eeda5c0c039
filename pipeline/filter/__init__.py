"""The filter service. Pure: `policy` (hits to outcome) and `judge` (posts and reports to
verdicts and messages). Shell: `worker` (the filter on the processing loop), `reload` (hot
reload of lists) and `service` (the `run` command's wiring)."""
