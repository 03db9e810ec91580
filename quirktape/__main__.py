"""``python -m quirktape``: the same command line as the ``quirktape`` script, for environments whose
scripts directory is not on PATH (``python -m pip install --user``, some CI images, Windows)."""

from recorder.cli import main

if __name__ == "__main__":
    main()
