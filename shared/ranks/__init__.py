"""Rank tracking: DataForSEO SERPs (``dataforseo``), the country table (``countries``), snapshots and their items."""
