"""face-clean: sweep or watch a folder of photos and quarantine what the rules reject.

As a library: ``cleaner.api`` (``Analyzer``, ``decide``, ``load_rules``). Its names are not
re-exported here: every layer imports this package for ``__version__``, so an import of the API
here, even a lazy one, would be an arrow from every layer to the top in the import contracts.
"""

__version__ = "0.1.0"
