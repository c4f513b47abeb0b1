"""One package per vendor: its HTTP client, webhook verification and parsing, and its mapping."""
