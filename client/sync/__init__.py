"""Talking to the exam server: HTTP client, server clock, background answer upload."""
