"""The enforcer: a strike ledger per user, an escalation ladder per site, and patrol decisions
turned into actions.

Pure: `ladder.py` (configuration and its checks), `ledger.py` (the per-user ledger and its
codec), `rules.py` (the transition function), `history.py` (the view for people).
Shell: `state.py` (partition-local ledgers restored from the changelog), `service.py` (the
processor on the shared loop, the `enforce` and `history` commands), `metrics.py`.
"""
