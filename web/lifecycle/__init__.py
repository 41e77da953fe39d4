"""The records-lifecycle pages: 即将到期 (expiring soon), disposal approval, legal holds, inventory,
tier status (managers and admins of a store; ``lifecycle`` permission). The actions go through
``app.lifecycle`` like ``woa hold`` / ``woa dispose`` and are written to the audit trail."""
