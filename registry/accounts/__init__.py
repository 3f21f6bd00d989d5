"""Staff accounts as a service: passwords, the TOTP second factor, roles, sessions, lockout."""
