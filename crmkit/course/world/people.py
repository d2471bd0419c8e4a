"""Who is in the data world: staff, B2C customers, B2B companies and their contact persons.

Each function returns plain tables plus the hidden truth the tests and teacher notes use
(latent segment, true portfolio, active spells); the truth never reaches the students' CSVs.
"""

from __future__ import annotations

import unicodedata

import numpy as np
import pandas as pd

from crmkit.course.world import vocab
from crmkit.course.world.sim import N_DAYS, arange_within, ids, pick
from crmkit.runtime.schema import BUYING_ROLES

B2C_SHARES = {"harrastaja": 0.15, "arkiostaja": 0.28, "tarjousmetsastaja": 0.20, "lahjaostaja": 0.15,
              "kokeilija": 0.22}
B2C_LIFETIME = {"harrastaja": 1600, "arkiostaja": 1100, "tarjousmetsastaja": 600, "lahjaostaja": 1100,
                "kokeilija": 40}
B2C_WINBACK = {"harrastaja": 0.10, "arkiostaja": 0.15, "tarjousmetsastaja": 0.30, "lahjaostaja": 0.10,
               "kokeilija": 0.04}
B2C_BIRTH = {"harrastaja": 1984, "arkiostaja": 1968, "tarjousmetsastaja": 1990, "lahjaostaja": 1974,
             "kokeilija": 1992}
B2C_CONSENT = {"harrastaja": 0.75, "arkiostaja": 0.5, "tarjousmetsastaja": 0.95, "lahjaostaja": 0.55,
               "kokeilija": 0.4}
B2C_ACQUISITION = {
    "harrastaja": ({"suosittelu": 3, "hakukone": 3, "some": 1, "myymälä": 2}),
    "arkiostaja": ({"myymälä": 4, "hakukone": 2, "mainos": 1, "suosittelu": 1}),
    "tarjousmetsastaja": ({"sähköposti": 3, "mainos": 3, "some": 2, "hakukone": 1}),
    "lahjaostaja": ({"hakukone": 3, "myymälä": 3, "some": 1}),
    "kokeilija": ({"some": 3, "mainos": 3, "hakukone": 1}),
}
B2B_SIZE = {"kahvila_ravintola": (8, 0.8), "toimisto": (40, 1.1), "hotelli_catering": (60, 0.8),
            "jalleenmyyja": (12, 0.9)}
B2B_SPEND = {"kahvila_ravintola": 12000, "toimisto": 7000, "hotelli_catering": 30000, "jalleenmyyja": 14000}
B2B_LIFETIME = {"A": 6000, "B": 2400, "C": 1400, "D": 800}


def ascii_fold(s: pd.Series) -> pd.Series:
    """Lower-case ASCII for e-mail addresses: 'Mäkelä' -> 'makela'."""
    return s.map(lambda x: unicodedata.normalize("NFKD", x).encode("ascii", "ignore").decode().lower())


def business_ids(rng: np.random.Generator, n: int) -> np.ndarray:
    """`n` unique Finnish business ids (Y-tunnus) with valid check digits."""
    base = rng.choice(np.arange(1_000_000, 3_400_000), size=3 * n + 10, replace=False)
    digits = (base[:, None] // 10 ** np.arange(6, -1, -1)) % 10
    r = (digits * np.array([7, 9, 10, 5, 8, 4, 2])).sum(axis=1) % 11
    ok = r != 1
    check = np.where(r == 0, 0, 11 - r)
    base, check = base[ok][:n], check[ok][:n]
    return np.char.add(np.char.add(np.char.zfill(base.astype(str), 7), "-"), check.astype(str)).astype(object)


def phones(rng: np.random.Generator, n: int) -> np.ndarray:
    """Finnish mobile numbers such as '040 123 4567'."""
    pre = pick(rng, ["040", "044", "045", "050"], n)
    a = np.char.zfill(rng.integers(0, 1000, n).astype(str), 3)
    b = np.char.zfill(rng.integers(0, 10000, n).astype(str), 4)
    return (pre.astype(str) + " " + a + " " + b).astype(object)


def places(rng: np.random.Generator, n: int, b2b: bool) -> pd.DataFrame:
    """City, postcode and region for `n` customers, weighted towards the roastery's home markets."""
    w = np.array([c[4] if b2b else c[3] for c in vocab.CITIES])
    k = rng.choice(len(vocab.CITIES), size=n, p=w / w.sum())
    city = np.array([c[0] for c in vocab.CITIES], dtype=object)[k]
    region = np.array([c[1] for c in vocab.CITIES], dtype=object)[k]
    n_codes = np.array([len(c[2]) for c in vocab.CITIES])[k]
    j = np.floor(rng.random(n) * n_codes).astype(int)
    codes = np.array([list(c[2]) + [c[2][0]] * (8 - len(c[2])) for c in vocab.CITIES], dtype=object)
    return pd.DataFrame({"city": city, "postcode": codes[k, j], "region": region})


def staff_table() -> pd.DataFrame:
    """The sales and service staff."""
    return pd.DataFrame(vocab.STAFF, columns=["staff_id", "name", "role", "region"])


def person_names(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Random Finnish first and last names."""
    female = rng.random(n) < 0.5
    first = np.where(female, pick(rng, vocab.FIRST_NAMES_F, n), pick(rng, vocab.FIRST_NAMES_M, n))
    return first.astype(object), pick(rng, vocab.LAST_NAMES, n)


def b2c_customers(rng: np.random.Generator, scale: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """B2C customers and newsletter prospects, with the hidden truth (segment, spells)."""
    n_cust, n_pros = round(1200 * scale), round(220 * scale)
    n = n_cust + n_pros
    seg_names = list(B2C_SHARES)
    seg = pick(rng, seg_names, n, list(B2C_SHARES.values()))
    is_prospect = np.arange(n) >= n_cust
    seg[is_prospect] = None
    signup = np.floor((N_DAYS - 45) * rng.random(n) ** 1.15).astype(int)  # the web shop opened in January 2023
    life_mean = np.array([B2C_LIFETIME.get(s, 1) for s in seg], dtype=float)
    bad = (rng.random(n) < 0.12) & ~is_prospect & (seg != "kokeilija")
    life = np.ceil(rng.gamma(3.0, life_mean / 3.0) * np.where(bad, 0.4, 1.0)).astype(int) + 20
    churn = signup + life
    wb_p = np.array([B2C_WINBACK.get(s, 0) for s in seg])
    winback = (~is_prospect) & (churn < N_DAYS - 200) & (rng.random(n) < wb_p)
    wb_start = churn + 150 + rng.exponential(150, n).astype(int)
    winback &= wb_start < N_DAYS - 30
    wb_end = wb_start + rng.exponential(350, n).astype(int) + 30

    first, last = person_names(rng, n)
    birth = np.array([B2C_BIRTH.get(s, 1980) for s in seg]) + rng.normal(0, 11, n)
    hh_mean = np.select([seg == "harrastaja", seg == "arkiostaja", seg == "lahjaostaja"], [1.6, 2.8, 2.2], 2.0)
    acq = np.empty(n, dtype=object)
    for s in seg_names:
        m = seg == s
        acq[m] = pick(rng, list(B2C_ACQUISITION[s]), int(m.sum()), list(B2C_ACQUISITION[s].values()))
    acq[is_prospect] = pick(rng, ["some", "sähköposti", "hakukone"], int(is_prospect.sum()))
    consent = rng.random(n) < np.array([B2C_CONSENT.get(s, 1.0) for s in seg])
    num = rng.integers(1, 99, n).astype(str)
    email = ascii_fold(pd.Series(first)) + "." + ascii_fold(pd.Series(last)) + num + "@" + pd.Series(
        pick(rng, ["esimerkki.fi", "posti.example", "example.com"], n))
    df = pd.DataFrame({
        "customer_type": "B2C",
        "name": pd.Series(first) + " " + pd.Series(last),
        "birth_year": np.clip(np.round(birth), 1935, 2005).astype(int),
        "household_size": np.clip(rng.poisson(hh_mean - 1) + 1, 1, 8),
        "signup_day": signup,
        "acquisition_channel": acq,
        "marketing_consent": consent,
        "email": email.to_numpy(),
        "phone": np.where(rng.random(n) < 0.7, phones(rng, n), None),
    })
    df = pd.concat([df, places(rng, n, b2b=False)], axis=1)
    truth = pd.DataFrame({"segment": seg, "is_prospect": is_prospect, "bad_experience": bad,
                          "start": signup, "churn": churn, "winback": winback, "wb_start": wb_start,
                          "wb_end": wb_end})
    return df, truth


def b2b_companies(rng: np.random.Generator, scale: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """B2B companies: existing customers (signed up before 2023) and new-business cases.

    A new-business company becomes a customer only if its opportunity is won (decided in
    :mod:`crmkit.course.world.pipeline`); until then its ``start`` is unknown (-1).
    """
    n_exist, n_new = round(200 * scale), round(300 * scale)
    n = n_exist + n_new
    segs = list(vocab.B2B_SEGMENTS)
    seg = pick(rng, segs, n, [vocab.B2B_SEGMENTS[s]["share"] for s in segs])
    med = np.array([B2B_SIZE[s][0] for s in seg], dtype=float)
    sd = np.array([B2B_SIZE[s][1] for s in seg])
    emp = np.clip(np.round(med * np.exp(rng.normal(0, sd))), 1, 5000).astype(int)
    spend = (np.array([B2B_SPEND[s] for s in seg]) * (emp / med) ** 0.6 * np.exp(rng.normal(0, 0.6, n)))
    spend = np.round(np.clip(spend, 1500, 400000), -1)
    sow = rng.beta(2.5, 2.5, n)
    potential = np.round(spend / np.clip(sow, 0.15, 0.95), -2)
    headroom = potential - spend
    a = spend >= np.quantile(spend, 0.80)
    b = ~a & (headroom >= np.quantile(headroom, 0.60))
    c = ~a & ~b & (spend >= np.quantile(spend, 0.45))
    portfolio = np.select([a, b, c], ["A", "B", "C"], "D").astype(object)
    costly = (spend >= np.quantile(spend, 0.55)) & np.isin(seg, ["kahvila_ravintola", "hotelli_catering",
                                                                 "jalleenmyyja"]) & (rng.random(n) < 0.25)
    recorded = portfolio.copy()
    stale = rng.random(n)
    recorded[(portfolio == "B") & (stale < 0.15)] = "C"
    recorded[(portfolio == "C") & (stale < 0.08)] = "B"
    recorded[(portfolio == "D") & (stale < 0.06)] = "C"

    ind = np.empty(n, dtype=object)
    ind_name = np.empty(n, dtype=object)
    name = np.empty(n, dtype=object)
    for s in segs:
        m = seg == s
        k = int(m.sum())
        spec = vocab.B2B_SEGMENTS[s]
        j = rng.integers(0, len(spec["industries"]), k)
        ind[m] = np.array([i[0] for i in spec["industries"]], dtype=object)[j]
        ind_name[m] = np.array([i[1] for i in spec["industries"]], dtype=object)[j]
        name[m] = (pick(rng, spec["prefixes"], k).astype(str) + " " + pick(rng, vocab.COMPANY_WORDS, k).astype(str)
                   + " " + pick(rng, spec["suffixes"], k).astype(str))
    # make names unique by adding a city-like suffix number where needed
    dup = pd.Series(name).duplicated(keep="first").to_numpy()
    name[dup] = name[dup].astype(str) + np.char.add(" ", (np.arange(dup.sum()) + 2).astype(str))
    size_class = np.select([emp < 10, emp < 50, emp < 250], ["mikro", "pieni", "keskisuuri"], "suuri")
    loc = places(rng, n, b2b=True)
    is_new = np.arange(n) >= n_exist
    signup = np.where(is_new, -1, -rng.integers(30, 4700, n))
    df = pd.DataFrame({
        "customer_type": "B2B", "name": name, "business_id": business_ids(rng, n),
        "industry_code": ind, "industry": ind_name, "employees": emp, "size_class": size_class,
        "estimated_potential": potential.astype(float), "portfolio": recorded,
        "marketing_consent": rng.random(n) < 0.6, "signup_day": signup,
    })
    df = pd.concat([df, loc], axis=1)
    life = np.ceil(rng.exponential([B2B_LIFETIME[p] for p in portfolio])).astype(int) + 60
    bad = rng.random(n) < 0.10
    life = np.where(bad, life // 2 + 30, life)
    truth = pd.DataFrame({"segment": seg, "portfolio": portfolio, "annual_spend": spend, "costly": costly,
                          "is_new": is_new, "bad_experience": bad, "life": life,
                          "sow": sow})
    return df, truth


def assign_managers(rng: np.random.Generator, region: np.ndarray, portfolio: np.ndarray) -> np.ndarray:
    """Account manager per B2B customer: regional account managers for A/B, inside sales for C/D."""
    n = len(region)
    out = np.empty(n, dtype=object)
    fallback = np.where(rng.random(n) < 0.5, "Pirkanmaa", "Uusimaa")
    reg = np.where(np.isin(region, list(vocab.MANAGER_BY_REGION)), region, fallback)
    for r, managers in vocab.MANAGER_BY_REGION.items():
        m = reg == r
        out[m] = pick(rng, managers, int(m.sum()))
    inside = np.isin(portfolio, ["C", "D"])
    out[inside] = pick(rng, ["S10", "S11", "S12"], int(inside.sum()))
    return out


def contacts_table(rng: np.random.Generator, company_ids: np.ndarray) -> pd.DataFrame:
    """2–5 contact persons per B2B company, each with a distinct buying-centre role."""
    n = len(company_ids)
    k = rng.integers(2, 6, n)
    rows = np.repeat(np.arange(n), k)
    order = np.argsort(rng.random((n, 5)), axis=1)  # a random permutation of the five roles per company
    pos = arange_within(k)
    role = np.array(BUYING_ROLES, dtype=object)[order[rows, pos]]
    m = len(rows)
    first, last = person_names(rng, m)
    titles = np.empty(m, dtype=object)
    for r, options in vocab.CONTACT_TITLES.items():
        sel = role == r
        titles[sel] = pick(rng, options, int(sel.sum()))
    domain = ascii_fold(pd.Series(company_ids[rows]).astype(str)).str.lower() + ".example.fi"
    email = ascii_fold(pd.Series(first)) + "." + ascii_fold(pd.Series(last)) + "@" + domain
    return pd.DataFrame({
        "contact_id": ids("K", m, 5), "customer_id": company_ids[rows], "first_name": first,
        "last_name": last, "title": titles, "buying_role": role, "email": email.to_numpy(),
        "phone": phones(rng, m), "marketing_consent": rng.random(m) < 0.5, "is_primary": pos == 0,
    })
