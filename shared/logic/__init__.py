"""Domain logic: what Kestrel does, independent of Lambda, HTTP and SQS."""
