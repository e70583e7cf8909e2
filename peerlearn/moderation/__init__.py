"""Moderation: members' flags on posts and the moderators' queues."""
