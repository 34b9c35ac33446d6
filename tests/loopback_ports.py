"""Where the tests' mail servers listen: each mail port the checker knows is served on an
unprivileged port of a 127.0.0.x address, so no test needs root to listen and none collides
with a mail server the machine itself runs (which would hold 25, 587, ... on every address).
HTTPS (an MTA-STS policy host's 443) is served on 20443. Checkers in tests dial through this
map (`Checker(..., dial=TEST_PORTS)`)."""

from bot.check.guard import HTTPS_PORT
from bot.check.ports import PORTS

TEST_PORTS: dict[int, int] = {port: 20000 + port for port in (*PORTS, HTTPS_PORT)}
