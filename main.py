"""Cloud Engine's one entry point: `python main.py --help` lists the commands."""

import sys

from cloud_engine.cli import main

if __name__ == "__main__":
    sys.exit(main())
