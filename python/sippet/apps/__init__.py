"""Applications built from sippet's blocks: ``sippet.apps.serve`` (a registrar and
record-routing proxy in one command, ``sippet serve``)."""
