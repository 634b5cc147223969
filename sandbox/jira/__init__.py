"""A seedable emulator of the Jira platform REST API (sandbox contract 5).

    sandbox = JiraSandbox(json.loads(Path("seed/jira.json").read_text()))
    with ServedApp(sandbox.app) as served:      # jira.url: served.url
        sandbox.move_version("11002", dt.date(2026, 5, 1))

Deviations from Jira, on purpose: one simple workflow (To Do, In Progress, Done, any to
any), a JQL subset (unsupported clauses are a 400, never a wrong answer), webhooks may
go to plain http, and `/issue/{key}/changelog` exists in Cloud mode only (as in Jira).
"""

from sandbox.jira.app import JiraSandbox, load_seed

__all__ = ["JiraSandbox", "load_seed"]
