"""python -m mlcli: the same as the mlcli command."""

from mlcli.cli.app import main

if __name__ == "__main__":
    main()
