"""`python -m composer` runs the CLI (tests use it with sys.executable)."""

from composer.entry import main

main()
