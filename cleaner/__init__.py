"""face-clean: sweep or watch a folder of photos and quarantine what the rules reject."""

__version__ = "0.1.0"
