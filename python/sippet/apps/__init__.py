"""Applications built on the library: the user agents behind ``sippet uas`` and
``sippet call``. The CLI only parses arguments; what the programs do lives here, so that
tests and other programs can run them in process."""
