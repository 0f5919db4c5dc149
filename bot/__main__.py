"""`python -m bot` is `jixing`."""

from bot.cli import main

main()
