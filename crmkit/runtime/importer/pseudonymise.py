"""Pseudonymisation: personal identifiers replaced by salted HMAC-SHA256 tokens (GDPR)."""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path

import pandas as pd

from crmkit.runtime.importer.problems import ImportProblems, Problem

#: Name of the default salt file, created next to the mapping file.
SALT_FILE_NAME = ".crmkit-salt"
#: (table, column) -> kind of personal identifier that is pseudonymised.
#: customers.name only for rows that are not B2B (a company name is not personal data).
PERSONAL: dict[tuple[str, str], str] = {
    ("customers", "name"): "name",
    ("customers", "email"): "email",
    ("customers", "phone"): "phone",
    ("contacts", "first_name"): "name",
    ("contacts", "last_name"): "name",
    ("contacts", "email"): "email",
    ("contacts", "phone"): "phone",
    ("staff", "name"): "name",
}
_TOKEN_HEX = 12  # 48 bits: a collision is checked for and reported, not assumed away


def _normalise(value: str, kind: str) -> str:
    if kind == "email":
        return value.strip().casefold()
    if kind == "phone":
        d = re.sub(r"[^\d+]", "", value)
        if d.startswith("00"):
            d = "+" + d[2:]
        elif d.startswith("0"):
            d = "+358" + d[1:]
        return d
    return " ".join(value.split()).casefold()


def pseudonym(value: str, kind: str, salt: bytes | str) -> str:
    """Salted HMAC-SHA256 token for a personal identifier of `kind` ('name', 'email' or 'phone').

    The value is normalised first (case and spacing; phone numbers to +358 form), so the same
    person gets the same token in every table and on every run with the same salt.
    """
    salt = salt.encode("utf-8") if isinstance(salt, str) else salt
    h = hmac.new(salt, f"{kind}\x1f{_normalise(value, kind)}".encode(), hashlib.sha256).hexdigest()[:_TOKEN_HEX]
    return {"name": f"hlö_{h}", "email": f"email_{h}@example.invalid", "phone": f"puh_{h}"}[kind]


def pseudonymise_tables(tables: dict[str, pd.DataFrame], salt: bytes | str) -> dict[str, pd.DataFrame]:
    """Return copies of `tables` with every personal identifier (:data:`PERSONAL`) replaced."""
    seen: dict[str, dict[str, str]] = {}
    out = {}
    for name, df in tables.items():
        df = df.copy()
        for (tname, col), kind in PERSONAL.items():
            if tname != name or col not in df:
                continue
            mask = df[col].notna()
            if (name, col) == ("customers", "name") and "customer_type" in df:
                mask &= df["customer_type"] != "B2B"
            tokens = []
            for v in df.loc[mask, col].tolist():
                t = pseudonym(v, kind, salt)
                norm = _normalise(v, kind)
                if seen.setdefault(kind, {}).setdefault(t, norm) != norm:
                    raise ImportProblems([Problem(name, "two different values got the same pseudonym",
                                                  "delete the salt file (a new one is created) and import again",
                                                  kit_column=f"{name}.{col}")])
                tokens.append(t)
            df.loc[mask, col] = tokens
        out[name] = df
    return out


def load_salt(path: str | os.PathLike, create: bool = True) -> tuple[bytes, bool]:
    """Read the salt from `path`; create it with 256 random bits if missing. Returns (salt, created)."""
    path = Path(path)
    if path.exists():
        text = path.read_text(encoding="utf-8").strip()
        if len(text) < 16:
            raise ImportProblems([Problem(path.name, "the salt file is empty or too short (under 16 characters)",
                                          "delete it to have a new one created, or put a long random text in it")])
        return text.encode("utf-8"), False
    if not create:
        raise FileNotFoundError(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(secrets.token_hex(32) + "\n")
    return path.read_text(encoding="utf-8").strip().encode("utf-8"), True
