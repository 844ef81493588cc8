"""Reads that several routes share; routes import these, never each other."""
