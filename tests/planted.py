"""Measures of the data world's planted structure (used by tests/course/test_data_world.py).

Kept with the tests, not in crmkit, so that the students' installed package does not carry the
answers to the lessons' exercises. Each function takes the dict of tables (and, where needed,
the hidden truth) and returns plain numbers or small tables.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score
from sklearn.preprocessing import StandardScaler

TODAY = pd.Timestamp("2025-12-31")


def live_orders(t: dict) -> pd.DataFrame:
    """Orders that are not cancelled, with net revenue and cost of goods per order."""
    o = t["orders"][t["orders"]["status"] != "peruttu"]
    agg = t["order_lines"].groupby("order_id")[["net_amount", "cost_amount"]].sum()
    return o.join(agg, on="order_id")


def rfm_features(t: dict) -> pd.DataFrame:
    """B2C features: recency, frequency, monetary (mean order), campaign share, Nov–Dec share."""
    o = live_orders(t)
    c = o[o["customer_id"].str.startswith("C")]
    g = c.groupby("customer_id")
    return pd.DataFrame({
        "recency": (TODAY - g["order_date"].max()).dt.days,
        "frequency": g.size(),
        "monetary": g["net_amount"].mean(),
        "campaign_share": c["campaign_id"].notna().groupby(c["customer_id"]).mean(),
        "season_share": c["order_date"].dt.month.isin([11, 12]).groupby(c["customer_id"]).mean(),
    })


def segment_ari(t: dict, truth: pd.DataFrame) -> float:
    """Adjusted Rand index of k-means (k=5) on standardised RFM-style features vs the latent segments."""
    f = rfm_features(t)
    x = np.column_stack([np.log1p(f["recency"]), np.log1p(f["frequency"]), np.log1p(f["monetary"]),
                         f["campaign_share"], f["season_share"]])
    labels = KMeans(5, n_init=10, random_state=0).fit_predict(StandardScaler().fit_transform(x))
    return adjusted_rand_score(truth.set_index("customer_id").loc[f.index, "segment"], labels)


def customer_pnl(t: dict) -> pd.DataFrame:
    """Per customer: revenue, gross margin (incl. delivery fees charged), cost to serve, profit."""
    o = live_orders(t)
    p = o.groupby("customer_id").agg(revenue=("net_amount", "sum"), cogs=("cost_amount", "sum"),
                                     fees=("delivery_fee", "sum"))
    p["gross_margin"] = p["revenue"] - p["cogs"] + p["fees"]
    p["cost_to_serve"] = t["service_costs"].groupby("customer_id")["amount"].sum().reindex(p.index).fillna(0)
    p["profit"] = p["gross_margin"] - p["cost_to_serve"]
    return p


def whale_curve(profit: pd.Series) -> pd.Series:
    """Cumulative share of total profit, customers sorted from most to least profitable."""
    s = profit.sort_values(ascending=False)
    return s.cumsum() / s.sum()


def funnel_rates(sessions: pd.DataFrame) -> pd.Series:
    """Stage-to-stage conversion of the B2C funnel."""
    stages = ["viewed_product", "added_to_cart", "started_checkout", "purchased"]
    counts = [len(sessions)] + [int(sessions[s].sum()) for s in stages]
    names = ["session→view", "view→cart", "cart→checkout", "checkout→purchase"]
    return pd.Series(np.array(counts[1:]) / np.array(counts[:-1]), index=names)


def cohort_retention(t: dict, months: int, customers: pd.Index | None = None) -> float:
    """Share of customers (first order at least `months` ago) who still bought `months` or more after it."""
    o = live_orders(t)
    if customers is not None:
        o = o[o["customer_id"].isin(customers)]
    first = o.groupby("customer_id")["order_date"].min()
    age = (o["order_date"] - o["customer_id"].map(first)).dt.days / 30.44
    eligible = first[first <= TODAY - pd.Timedelta(days=int(30.44 * (months + 1)))].index
    active = o.loc[age >= months, "customer_id"].unique()
    return float(pd.Index(eligible).isin(active).mean())


def stage_reach(t: dict, stage: str) -> pd.Series:
    """Share of opportunities per lead source that reached `stage`."""
    h = t["opportunity_history"]
    reached = set(h.loc[h["stage"] == stage, "opportunity_id"])
    o = t["opportunities"]
    return o["opportunity_id"].isin(reached).groupby(o["lead_source"]).mean()


def win_rates_by_roles(t: dict) -> pd.DataFrame:
    """Closed opportunities that reached negotiation: roles met, decider met, won."""
    o = t["opportunities"]
    closed = o[o["stage"].isin(["tilaus", "menetetty"])].set_index("opportunity_id")
    h = t["opportunity_history"]
    negotiated = set(h.loc[h["stage"] == "neuvottelu", "opportunity_id"])
    closed = closed[closed.index.isin(negotiated)]
    oc = t["opportunity_contacts"].merge(t["contacts"][["contact_id", "buying_role"]], on="contact_id")
    roles = oc.groupby("opportunity_id")["buying_role"].nunique()
    decider = oc.assign(d=oc["buying_role"] == "päättäjä").groupby("opportunity_id")["d"].any()
    return pd.DataFrame({"roles": roles.reindex(closed.index).fillna(0).to_numpy(),
                         "decider": decider.reindex(closed.index).fillna(False).to_numpy().astype(bool),
                         "won": (closed["stage"] == "tilaus").to_numpy()}, index=closed.index)


def overdue_a_customers(t: dict) -> tuple[int, int]:
    """(A customers with no activity within their care-model interval, all current A customers)."""
    c = t["customers"]
    a = c[(c["portfolio"] == "A") & (c["status"] == "asiakas")]
    interval = int(t["care_models"].set_index("portfolio").loc["A", "contact_interval_days"])
    last = t["activities"].groupby("customer_id")["activity_date"].max().reindex(a["customer_id"])
    overdue = (TODAY - last).dt.days > 2 * interval
    return int(overdue.sum()), len(a)
