"""`python -m genepheno_core SUBCOMMAND`."""

from genepheno_core.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
