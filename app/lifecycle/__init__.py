"""Records lifecycle: retention, reminders, legal hold, approved disposal, inventory, cold tier.

Application layer (imports core, index; called by ``woa/commands/lifecycle.py`` and the web app).
The lifecycle state lives in the archive (``ARCHIVE/lifecycle/``), written atomically, so a backup
of the archive carries it: ``state.json`` (reminders sent, documents due, the rules' fingerprint),
``events.jsonl`` (holds, disposals, extensions, tier moves), ``tombstones/XX/<id>.json``.
"""
