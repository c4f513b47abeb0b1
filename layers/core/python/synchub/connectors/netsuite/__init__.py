"""netsuite connector."""
