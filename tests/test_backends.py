"""heroes_sa.engine.describe_location: where a URL points, as the messages name it."""

from __future__ import annotations

import pytest
from sqlalchemy import make_url

from heroes_sa.engine import describe_location

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
