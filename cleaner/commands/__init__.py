"""The commands' sessions: what ``run``, ``restore`` and ``verdict`` open, in order, under the folder's
locks, and the job's assembly that ``run``, ``watch`` and ``eval`` share. Above the pipeline; only the
command line, the review page, the daemon and eval use them."""
