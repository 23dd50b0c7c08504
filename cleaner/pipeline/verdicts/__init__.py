"""A person's verdicts: given, listed and withdrawn (``face-clean verdict``, the review page, ``restore``),
applied by ``run`` and ``watch`` before any rule."""
