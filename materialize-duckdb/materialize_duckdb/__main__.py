from typing import NoReturn

from materialize_duckdb import connector


def main() -> NoReturn:
    connector.main()


if __name__ == "__main__":
    main()
