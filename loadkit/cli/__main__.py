"""``python -m loadkit.cli``: the same as the ``loadkit`` command."""

from loadkit.cli import main

main()
