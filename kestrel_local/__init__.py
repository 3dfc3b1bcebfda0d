"""Kestrel's local stack: embedded PostgreSQL, the AWS API emulator and stand-ins for external SaaS.

Used by ``make up`` and by the test suite; never shipped to Lambda.
"""
