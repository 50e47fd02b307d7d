"""Send the digest .eml to a list of subscribers over SMTP (`syndicate send`).

- recipients: read and check the CSV (email,name);
- message: each recipient's copy (To, Message-ID, personal unsubscribe link);
- journal: the SQLite journal that makes a rerun resume with nobody missed or sent twice;
- smtp: the connection, the rate limit and backoff;
- send: the loop that ties them together; command: the CLI's text and JSON output.

Reads [smtp] (host, port, security, username, password_env, token_secret_env, timeout, rate,
max_retries, retry_delay, ca_file) and [digest] unsubscribe_url.
"""

from .command import run
from .errors import CannotStart
from .send import SendReport, send

__all__ = ["CannotStart", "SendReport", "run", "send"]
