"""The network administrators' area: users, organisations, spaces, e-mail domains, audit log."""
