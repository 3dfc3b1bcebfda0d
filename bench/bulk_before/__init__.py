"""The bulk-export parser and spill as they were before they were made faster (commit 5383785), frozen for
``make bench-bulk-parse``.

Only the benchmark imports it: it times this code path beside the current one in
the same run, so the ratio it prints compares like with like on the same machine.
Its modules are verbatim copies except for their imports of each other.
"""
