"""``python -m service``: the ``brief`` command, for when the script is not on PATH."""

from service.cli import main

if __name__ == "__main__":
    main(prog_name="brief")
