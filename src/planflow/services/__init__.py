"""Each question a user or a job can ask, and each act, as one function taking a Session: it takes
who is asking, checks the right inside, applies the installation's defaults and returns a typed
view. The caller owns the transaction.

  authority/  who may do what (access), people, tokens, sign-in
  chain/      the reporting chain as it runs: a module of handlers per BPMN process, tasks,
              instances, timers, the cadence that starts cycles, reminders
  views/      the read side: where a cycle stands, the plan page, an activity's story, a case
  records/    the audit trail, its checkpoints and search, the records' consistency
  outputs/    report content and issuing, Excel, the archive, the calendar feed, notices, mail
  plan/       loading, reading and editing the plan; the demo data
"""

# The modules whose @on_complete / @on_passed handlers the engine's steps dispatch to, one per
# diagram in workflows/: importing the services package registers them, whichever entry point
# (web, CLI, scheduler) comes first.
from .chain import (  # noqa: F401
    activity_report,
    annual,
    area_reconciliation,
    deviations,
    proposals,
    reporting_cycle,
)
