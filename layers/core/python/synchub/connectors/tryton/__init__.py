"""tryton connector."""
