"""``python -m envguard``: the same as the ``envguard`` command."""

from envguard.cli import main

if __name__ == "__main__":
    main()
