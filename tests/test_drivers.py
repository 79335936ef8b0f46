"""heroes_sa.drivers: where a URL points and what installs its driver, as messages say it."""

from __future__ import annotations

import pytest
from sqlalchemy import make_url

from heroes_sa.drivers import describe_location, install_hint

PASSWORD = "s3cret-Pa55"


@pytest.mark.parametrize(
    ("url", "where"),
    [
        (f"postgresql+psycopg://u:{PASSWORD}@db.example:6543/x", "db.example:6543"),
        (f"postgresql+psycopg://u:{PASSWORD}@db.example/x", "db.example:5432"),
        (f"mariadb+pymysql://u:{PASSWORD}@10.1.2.3/x", "10.1.2.3:3306"),
        ("sqlite:///heroes.db", "sqlite:///heroes.db"),
        (f"mssql+pyodbc://u:{PASSWORD}@dsn", "dsn"),
    ],
)
def test_describe_location_names_host_and_port_never_the_password(url: str, where: str) -> None:
    assert describe_location(make_url(url)) == where


@pytest.mark.parametrize(
    ("url", "extra"),
    [
        ("postgresql+psycopg://h@db/x", "postgres"),
        ("postgresql+asyncpg://h@db/x", "asyncpg"),
        ("mysql+pymysql://h@db/x", "mysql"),
        ("mysql+aiomysql://h@db/x", "aiomysql"),
        ("mariadb+pymysql://h@db/x", "mysql"),
        ("mariadb+aiomysql://h@db/x", "aiomysql"),
        ("sqlite+aiosqlite:///heroes.db", "async"),
    ],
)
def test_each_driver_heroes_sa_uses_names_the_extra_that_installs_it(url: str, extra: str) -> None:
    assert install_hint(make_url(url)) == f"install it with: pip install 'heroes_sa[{extra}]'"


@pytest.mark.parametrize(
    ("url", "hint"),
    [
        ("mysql://h@db/x", "heroes_sa[mysql] installs pymysql, used by mysql+pymysql:// URLs"),
        (
            "postgresql+pg8000://h@db/x",
            "heroes_sa[postgres] installs psycopg, used by postgresql+psycopg:// URLs",
        ),
    ],
)
def test_another_driver_of_a_known_backend_is_pointed_to_heroes_sas_own(
    url: str, hint: str
) -> None:
    assert install_hint(make_url(url)) == hint


@pytest.mark.parametrize(
    "url", ["oracle+oracledb://h@db/x", "nosuchdb://h@db/x", "sqlite:///heroes.db"]
)
def test_a_driver_no_extra_installs_gets_no_hint(url: str) -> None:
    """Another backend, or SQLite's own driver, which comes with Python."""
    assert install_hint(make_url(url)) is None
