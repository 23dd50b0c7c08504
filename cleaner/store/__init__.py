"""face-clean's state: its folders, the SQLite state database and every table in it. Below the
pipeline, beside the moves: the report, the review page, eval and the settings read it too."""
