"""Webhooks: the vendor's own systems (CRM, chat, issue tracker) hear what happens, signed by the
Standard Webhooks scheme, delivered by jobs at least once, with a log admins read."""
