"""triage: recognise AWS security mail, check the account, tell the owner in plain Japanese."""

__version__ = "0.1.0"
