"""face-clean's state: its folders, the SQLite state database and every table in it."""
