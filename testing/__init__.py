"""Helpers that tests, benchmarks and scripts share (a real API server on loopback, headless
Chromium). Not part of the installed product; nothing in it imports the tests."""
