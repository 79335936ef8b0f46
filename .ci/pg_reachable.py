"""Exit 0 when the PostgreSQL server named by argv[1] accepts a connection.

Used by .ci/run to decide whether the PostgreSQL test runs can happen; prints
why not otherwise.  Never prints the password.
"""

from __future__ import annotations

import asyncio
import sys

import asyncpg
from sqlalchemy import make_url


async def ping(dsn: str) -> None:
    """Open and close one connection, giving up after five seconds."""
    connection = await asyncio.wait_for(asyncpg.connect(dsn), timeout=5)
    await connection.close()


def main() -> int:
    """0 if reachable, 1 (with the reason) if not."""
    url = make_url(sys.argv[1])
    if url.get_backend_name() != "postgresql":
        print(f"skipped: {url.get_backend_name()} is not PostgreSQL")
        return 1
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        asyncio.run(ping(dsn))
    except (OSError, asyncpg.PostgresError) as error:  # TimeoutError is an OSError
        print(f"skipped: no PostgreSQL at {url.host}:{url.port or 5432}: {error}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
