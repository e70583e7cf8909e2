"""Accounts: registration, e-mail confirmation, sign-in, passwords and profiles."""
