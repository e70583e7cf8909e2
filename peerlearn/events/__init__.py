"""Events: scheduling, RSVP and calendar feeds (the live event chat builds on these)."""
