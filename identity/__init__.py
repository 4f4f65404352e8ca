"""Who people are and what they may do: accounts, password hashes, roles and permissions.

A package beside :mod:`geo`, not inside it: :mod:`geo` keeps spatial data access and
geoprocessing. ``identity`` may import :mod:`geo` (the store, the settings, the errors) and
nothing above it; :mod:`campaign`, :mod:`layers`, :mod:`dashboard` and :mod:`riskmap` import it.

- :mod:`identity.passwords` — the password policy's constants (hashing is the database's);
- :mod:`identity.accounts` — roles, creating accounts, signing in, the data scope of a user;
- :mod:`identity.permissions` — the role → action table and the early refusals built on it.
"""
