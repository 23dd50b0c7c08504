"""A run over a folder, file by file: scan, analyse, decide, act (keep, or move through cleaner.moves),
record (cleaner.audit); the folder locks, what a run tells the user, restoring and a person's verdicts
on one file. The commands' sessions that assemble it are cleaner.commands'; the SQLite state
database is cleaner.store.
"""
