"""What planflow hands out: the reports, issued and frozen, Excel, the archive, the calendar feed,
notices and mail."""
