"""The ``envguard`` command line (typer). Imported only by the console script."""
