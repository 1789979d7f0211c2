"""Classifier v1: what a citizen's message is about, how sure we are, and why.

The pure parts (``text``, ``model``, ``aspect``, ``language``, ``metrics``, ``train``)
take and return plain values and never touch the database; ``store`` is the one adapter
that keeps model versions and reads moderators' labels.
"""
