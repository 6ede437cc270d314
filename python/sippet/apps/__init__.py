"""Applications built on the library: the user agents behind ``sippet uas`` and
``sippet call``, and ``sippet.apps.serve`` (a registrar and record-routing proxy,
``sippet serve``). The CLI only parses arguments; what the programs do lives here, so that
tests and other programs can run them in process."""
