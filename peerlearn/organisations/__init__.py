"""Organisations: trusts, ICBs, ICSs, regions, national bodies and partners."""
