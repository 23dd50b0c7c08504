"""Putting moved photos back: which, checked, moved, journalled and recorded (the command's session:
cleaner.commands.restore)."""
