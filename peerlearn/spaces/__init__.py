"""Spaces: communities and the special interest groups inside them, and who belongs to them."""
