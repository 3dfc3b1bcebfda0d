"""Screenshots of SERPs and ranking pages: a Chromium driven by Playwright, every request through the SSRF rules."""
