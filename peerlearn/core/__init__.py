"""Shared foundations every feature may use: database base, text pipeline, mail, security, errors."""
