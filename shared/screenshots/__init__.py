"""Screenshots of SERPs and ranking pages."""
