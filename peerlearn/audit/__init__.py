"""The append-only audit log of membership and role changes, bans, admin actions and sign-ins."""
