"""Conversations: client questions -> suggested replies -> advisor approval -> sent once.

Entry points: `runtime.services.conversations` (see service.py), the handlers in handlers/kf.py,
handlers/approvals.py and handlers/messages.py, and the console API in api.py. Docs:
docs/conversations.md.
"""
