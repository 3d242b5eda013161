"""Shared tools, by role: ``data`` (loading), ``train`` (the one loop), ``plot`` (figures),
``cli`` (the chapter commands' common options), ``errors`` and ``io`` (atomic writes)."""
