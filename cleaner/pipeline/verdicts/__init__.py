"""A person's verdicts on one file: given, listed and withdrawn (``face-clean verdict``, the review page,
``restore``), applied by ``run`` and ``watch`` before any rule. The sessions that open them:
cleaner.commands.verdict and cleaner.commands.verdict_session."""
