"""face-clean report: the HTML page of a run, its data and its thumbnails."""
