"""The password policy's constants. Hashing and checking are the database's (bcrypt, migration 0015).

Passwords are hashed by PostgreSQL (``crypt(pw, gen_salt('bf', cost))``, :func:`geo.store.set_password`)
and checked by its sign-in function, so the application never reads a hash. Accounts whose hash was made
before (Argon2id) cannot sign in until an administrator resets their password with the command line.
"""

from __future__ import annotations

#: Fewest characters of a password.
MIN_PASSWORD = 10
#: bcrypt reads at most this many bytes of a password; longer ones are refused rather than cut silently.
MAX_PASSWORD_BYTES = 72
