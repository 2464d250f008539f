"""The plan itself: loading, reading and editing it, and the demo data."""
