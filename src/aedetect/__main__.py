"""``python -m aedetect``: the console script's entry."""

from aedetect._entry import main

if __name__ == "__main__":
    main()
