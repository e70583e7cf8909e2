"""Notifications: the notification centre, the live header count, and e-mail (now or as a digest)."""
