"""Putting moved photos back: which, checked, moved, journalled and recorded."""
