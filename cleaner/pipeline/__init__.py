"""A run over a folder: scan, analyse, decide, act, audit; the state database, locks, moves, restore."""
