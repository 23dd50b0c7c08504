"""People: faces grouped into persons across the folder, and a person's verdict applied by run and watch
(cleaner.store.people keeps them; docs/guide/people.md says how to use them)."""
