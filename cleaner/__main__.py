"""Lets ``python -m cleaner`` behave exactly like the ``face-clean`` console script."""

from cleaner.cli import main

if __name__ == "__main__":
    main()
