"""Tasks: calls, emails, meetings and to-dos with an owner and a due time ("Tasks" in the UI)."""
