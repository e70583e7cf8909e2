"""Discussions: threads in every space, reply trees, revisions, helpful marks and read tracking."""
