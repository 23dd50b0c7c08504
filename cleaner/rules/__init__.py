"""The rules: their typed model, reading and checking rules files, deciding one file, describing the rules."""
