"""``face-clean serve``: the review page, a local web application to look at what the rules decided and
overrule them (cleaner.serve.app), safely beside a running ``watch`` (cleaner.serve.actors)."""
