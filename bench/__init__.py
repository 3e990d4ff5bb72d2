"""`make bench`: the system's speed, scale and cost, measured on this machine against references.

Every timing is a ratio against a reference measured in the same run (medians over repeated runs),
because absolute times drift on shared machines. See ``python -m bench --help``.
"""
