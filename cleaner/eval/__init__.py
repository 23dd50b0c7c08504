"""face-clean eval: labelled photos, the metrics, the text and the plots."""
