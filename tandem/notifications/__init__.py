"""Notifications: the bell with its unread count, and the same news by email."""
