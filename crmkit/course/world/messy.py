"""A deliberately messy Finnish Excel export of the customer register (lesson 01, importer tests).

Semicolons, decimal comma, ``dd.mm.yyyy`` dates, cp1252; plus what real registers contain:
duplicate customers, postcodes that lost their leading zero or gained a space, e-mail addresses
in mixed case with stray spaces, missing values, and a few rows that break the schema.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

HEADERS = {
    "customer_id": "Asiakasnumero", "customer_type": "Asiakastyyppi", "name": "Nimi", "business_id": "Y-tunnus",
    "industry_code": "Toimialakoodi", "industry": "Toimiala", "employees": "Henkilöstö", "size_class": "Kokoluokka",
    "city": "Kunta", "postcode": "Postinumero", "region": "Maakunta", "birth_year": "Syntymävuosi",
    "household_size": "Talouden koko", "signup_date": "Liittymispäivä", "acquisition_channel": "Hankintakanava",
    "account_manager_id": "Vastuumyyjä", "portfolio": "Salkku", "estimated_potential": "Potentiaali (€)",
    "marketing_consent": "Markkinointilupa", "email": "Sähköposti", "phone": "Puhelin", "status": "Tila",
}


def _fi_number(x) -> str:
    if pd.isna(x):
        return ""
    return f"{x:,.2f}".replace(",", " ").replace(".", ",")


def messy_export(customers: pd.DataFrame, seed: int, n: int = 400) -> tuple[pd.DataFrame, dict]:
    """Build the messy export from a sample of customers; return it and what was planted where."""
    rng = np.random.default_rng([seed, 99])
    take = customers.iloc[np.sort(rng.choice(len(customers), size=min(n, len(customers)), replace=False))]
    df = take[list(HEADERS)].copy().reset_index(drop=True)
    out = pd.DataFrame({
        "customer_id": df["customer_id"],
        "customer_type": df["customer_type"].map({"B2C": "Kuluttaja", "B2B": "Yritys"}),
        "name": df["name"], "business_id": df["business_id"].fillna(""), "industry_code": df["industry_code"].fillna(""),
        "industry": df["industry"].fillna(""), "employees": df["employees"].astype("string").fillna(""),
        "size_class": df["size_class"].fillna(""), "city": df["city"], "postcode": df["postcode"], "region": df["region"],
        "birth_year": df["birth_year"].astype("string").fillna(""),
        "household_size": df["household_size"].astype("string").fillna(""),
        "signup_date": df["signup_date"].dt.strftime("%d.%m.%Y"), "acquisition_channel": df["acquisition_channel"],
        "account_manager_id": df["account_manager_id"].fillna(""), "portfolio": df["portfolio"].fillna(""),
        "estimated_potential": df["estimated_potential"].map(_fi_number),
        "marketing_consent": np.where(df["marketing_consent"], "Kyllä", "Ei"),
        "email": df["email"].fillna(""), "phone": df["phone"].fillna(""), "status": df["status"],
    }).astype(str)
    k = len(out)
    planted = {}
    # postcodes: Excel dropped leading zeros, or someone typed a space
    zeros = np.flatnonzero(out["postcode"].str.startswith("0").to_numpy())[:12]
    out.loc[zeros, "postcode"] = out.loc[zeros, "postcode"].str.lstrip("0")
    spaced = rng.choice(np.setdiff1d(np.arange(k), zeros), 8, replace=False)
    out.loc[spaced, "postcode"] = out.loc[spaced, "postcode"].str[:2] + " " + out.loc[spaced, "postcode"].str[2:]
    planted["postcode"] = sorted(set(zeros) | set(spaced))
    # e-mails: upper case and stray spaces
    has_mail = np.flatnonzero(out["email"].str.len().to_numpy() > 0)
    caps = rng.choice(has_mail, 15, replace=False)
    out.loc[caps, "email"] = " " + out.loc[caps, "email"].str.upper() + " "
    planted["email"] = sorted(caps)
    # missing values where they are required
    missing = rng.choice(np.arange(k), 10, replace=False)
    out.loc[missing[:6], "city"] = ""
    out.loc[missing[6:], "signup_date"] = ""
    planted["missing"] = sorted(missing)
    # duplicates: the same customer entered twice, with small differences
    dup_src = rng.choice(np.arange(k), 12, replace=False)
    dups = out.loc[dup_src].copy()
    dups["email"] = dups["email"].str.strip().str.upper()
    dups["name"] = dups["name"].str.upper()
    out = pd.concat([out, dups], ignore_index=True)
    planted["duplicates"] = sorted(out.loc[dup_src, "customer_id"])
    # rows that break the schema
    broken = rng.choice(np.arange(k), 4, replace=False)
    out.loc[broken[0], "signup_date"] = "31.02.2024"
    b2b_rows = np.flatnonzero((out["customer_type"] == "Yritys").to_numpy())
    out.loc[b2b_rows[0], "estimated_potential"] = "n/a"
    out.loc[b2b_rows[1], "account_manager_id"] = "S99"
    out.loc[broken[1], "customer_type"] = "Yksityinen"
    planted["broken_rows"] = [int(broken[0]), int(b2b_rows[0]), int(b2b_rows[1]), int(broken[1])]
    out = out.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    return out.rename(columns=HEADERS), planted


def write_messy_export(tables: dict[str, pd.DataFrame], path: str | os.PathLike, seed: int) -> None:
    """Write the messy export as a Finnish Excel CSV (cp1252, ';', CRLF line ends)."""
    df, _ = messy_export(tables["customers"], seed)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(path, sep=";", index=False, encoding="cp1252", lineterminator="\r\n")
