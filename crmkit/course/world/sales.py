"""What customers buy and what serving them costs: orders, order lines, contracts, activities,
cost-to-serve events.

Planted: B2C segments with distinct rhythms (subscriptions, campaigns only, Christmas gifts, one
purchase), seasonality, a drop in orders before churn, costly large B2B customers (small frequent
deliveries, deep discounts, complaints) who are unprofitable after cost to serve, and care-model
contact intervals that some account managers let slip.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmkit.course.world import vocab
from crmkit.course.world.sim import (
    N_DAYS,
    arange_within,
    expected_events,
    ids,
    month_weights,
    pick,
    repeat_index,
    sample_days,
    to_date,
    window_weights,
)

VAT_CHANGE_DAY = (pd.Timestamp("2024-09-01") - pd.Timestamp("2023-01-01")).days

B2C_POOLS = {
    "harrastaja": ({"P003": 4, "P004": 4, "P005": 3, "P006": 3, "P032": 1, "P020": 0.4, "P031": 0.4, "P028": 0.3}),
    "arkiostaja": ({"P010": 5, "P011": 4, "P001": 2, "P002": 2, "P014": 2, "P015": 1, "P029": 1, "P017": 0.5,
                    "P018": 0.5}),
    "tarjousmetsastaja": ({"P001": 3, "P002": 3, "P010": 3, "P011": 3, "P014": 2, "P015": 2, "P003": 1}),
    "lahjaostaja": ({"P027": 5, "P028": 2, "P032": 2, "P003": 1, "P004": 1, "P017": 1, "P020": 1, "P031": 1}),
    "kokeilija": ({"P001": 2, "P002": 2, "P010": 2, "P011": 1, "P014": 3, "P015": 1}),
}
B2C_EXTRA_LINES = {"harrastaja": 2.5, "arkiostaja": 0.6, "tarjousmetsastaja": 1.6, "lahjaostaja": 1.8,
                   "kokeilija": 0.15}
B2C_WEB_SHARE = {"harrastaja": 0.85, "arkiostaja": 0.45, "tarjousmetsastaja": 0.9, "lahjaostaja": 0.6,
                 "kokeilija": 0.6}
B2B_POOLS = {
    "kahvila_ravintola": ({"P007": 5, "P009": 3, "P008": 2, "P013": 1, "P030": 2, "P031": 0.5, "P019": 1,
                           "P029": 0.5}),
    "toimisto": ({"P008": 4, "P013": 3, "P016": 2, "P014": 1, "P019": 2, "P029": 1}),
    "hotelli_catering": ({"P008": 4, "P007": 3, "P013": 2, "P019": 2, "P016": 1, "P030": 1}),
    "jalleenmyyja": ({"P012": 4, "P001": 3, "P002": 3, "P010": 3, "P011": 3, "P006": 1, "P017": 1, "P018": 1}),
}
B2B_INTERVAL = {"kahvila_ravintola": 14, "toimisto": 30, "hotelli_catering": 21, "jalleenmyyja": 28}
B2B_SEASON = {"kahvila_ravintola": {6: 1.25, 7: 1.3, 8: 1.2},
              "toimisto": {6: 0.8, 7: 0.35, 8: 0.8},
              "hotelli_catering": {6: 1.6, 7: 1.8, 8: 1.5, 12: 1.2},
              "jalleenmyyja": {11: 1.2, 12: 1.5}}
PORTFOLIO_DISCOUNT = {"A": 8.0, "B": 5.0, "C": 3.0, "D": 0.0}
CARE_INTERVAL = {m[0]: m[1] for m in vocab.CARE_MODELS}


def vat_rate(category: np.ndarray, day: np.ndarray) -> np.ndarray:
    """VAT in force: 14 % on food; 24 % on other goods and services, 25.5 % from 2024-09-01."""
    food = np.isin(category, vocab.FOOD_CATEGORIES)
    return np.where(food, 0.14, np.where(day >= VAT_CHANGE_DAY, 0.255, 0.24))


def products_table() -> pd.DataFrame:
    """The product catalogue with list prices, unit costs and current VAT rates."""
    df = pd.DataFrame(vocab.PRODUCTS, columns=["product_id", "name", "category", "sold_to", "is_premium",
                                               "list_price", "cost_share"])
    df["unit_cost"] = np.round(df["list_price"] * df["cost_share"], 2)
    df["vat_rate"] = vat_rate(df["category"].to_numpy(), np.full(len(df), N_DAYS - 1))
    return df.drop(columns="cost_share")


def _draw_from_pools(rng, pools: dict, group: np.ndarray) -> np.ndarray:
    """One draw per row from the weighted pool of the row's group (products, activity types, notes)."""
    out = np.empty(len(group), dtype=object)
    for g, pool in pools.items():
        m = group == g
        out[m] = pick(rng, list(pool), int(m.sum()), list(pool.values()))
    return out


def _spell_events(rng, start, end, rate, weights, owner) -> tuple[np.ndarray, np.ndarray]:
    """Poisson events in each spell at a seasonal rate: (owner index per event, day per event)."""
    lam = expected_events(start, end, rate, weights)
    k = rng.poisson(lam)
    idx = repeat_index(k)
    days = sample_days(rng, np.asarray(start)[idx], np.asarray(end)[idx], weights)
    return np.asarray(owner)[idx], days


def b2c_order_heads(rng, cust: pd.DataFrame, truth: pd.DataFrame, campaign_windows) -> pd.DataFrame:
    """B2C orders (one row per order): customer, day, segment, subscription and campaign flags."""
    buyers = ~truth["is_prospect"].to_numpy()
    seg = truth["segment"].to_numpy()
    start, churn = truth["start"].to_numpy(), truth["churn"].to_numpy()
    end1 = np.minimum(churn, N_DAYS - 1)
    wb = truth["winback"].to_numpy()
    spells = [(np.arange(len(cust))[buyers], start[buyers] + 1, end1[buyers])]
    spells.append((np.arange(len(cust))[wb], truth["wb_start"].to_numpy()[wb],
                   np.minimum(truth["wb_end"].to_numpy()[wb], N_DAYS - 1)))
    camp_w = window_weights(campaign_windows, 1.0, 0.0)
    gift_windows = [(d - 47, d - 9) for d in (365, 731, 1096)]  # about 15.11.–22.12. each year
    per_segment = {
        "harrastaja": (1 / 70, month_weights({12: 1.5})),
        "arkiostaja": (1 / 55, month_weights({12: 1.3, 7: 0.8})),
        "tarjousmetsastaja": (0.075, camp_w),
        "lahjaostaja": (0.032, window_weights(gift_windows, 1.0, 0.004)),
        "kokeilija": (1 / 500, month_weights({})),
    }
    owners, days, subs = [np.arange(len(cust))[buyers]], [start[buyers]], [np.zeros(buyers.sum(), bool)]
    for who, a, b in spells:
        for s, (rate, w) in per_segment.items():
            m = seg[who] == s
            o, d = _spell_events(rng, a[m], b[m], rate, w, who[m])
            owners.append(o), days.append(d), subs.append(np.zeros(len(o), bool))
        # subscriptions: enthusiasts get a delivery about every 30 days while active
        m = seg[who] == "harrastaja"
        n_sub = np.maximum((b[m] - a[m]) // 30, 0)
        o = who[m][repeat_index(n_sub)]
        d = a[m][repeat_index(n_sub)] + 30 * (arange_within(n_sub) + 1) - 30 + rng.integers(-2, 3, n_sub.sum())
        owners.append(o), days.append(np.clip(d, 0, N_DAYS - 1)), subs.append(np.ones(len(o), bool))
    o, d, sub = np.concatenate(owners), np.concatenate(days), np.concatenate(subs)
    # a drop in orders precedes churn: the rhythm fades over the last 180 days
    c = churn[o]
    keep_p = np.where((c < N_DAYS - 1) & (d > start[o] + 5), np.clip((c - d) / 180, 0.05, 1.0) ** 1.5, 1.0)
    keep = rng.random(len(o)) < keep_p
    o, d, sub = o[keep], d[keep], sub[keep]
    heads = pd.DataFrame({"cust": o, "day": d, "is_subscription": sub, "segment": seg[o]})
    in_campaign = camp_w[heads["day"].to_numpy()] > 0
    heads["campaign"] = in_campaign & ~sub & ((heads["segment"] == "tarjousmetsastaja")
                                              | (rng.random(len(heads)) < 0.25))
    return heads


def b2b_order_heads(rng, truth: pd.DataFrame, start: np.ndarray, end: np.ndarray) -> pd.DataFrame:
    """Recurring B2B orders: one row per order with its basket value at list prices."""
    seg = truth["segment"].to_numpy()
    costly = truth["costly"].to_numpy()
    interval = np.array([B2B_INTERVAL[s] for s in seg], dtype=float) / np.where(costly, 5.0, 1.0)
    parts = []
    for s in B2B_INTERVAL:
        m = (seg == s) & (start >= 0) & (end >= start)
        who = np.flatnonzero(m)
        o, d = _spell_events(rng, start[m], end[m], 1 / interval[m], month_weights(B2B_SEASON[s]), who)
        parts.append(pd.DataFrame({"cust": o, "day": d}))
    heads = pd.concat(parts, ignore_index=True)
    c = heads["cust"].to_numpy()
    churn_day = end[c]
    # a drop in orders precedes churn: the order rhythm fades over the last 240 days
    keep_p = np.clip((churn_day - heads["day"].to_numpy()) / 240, 0.05, 1.0) ** 1.5
    keep_p = np.where(churn_day < N_DAYS - 1, keep_p, 1.0)
    heads = heads[rng.random(len(heads)) < keep_p].reset_index(drop=True)
    c = heads["cust"].to_numpy()
    heads["segment"] = seg[c]
    heads["basket"] = (truth["annual_spend"].to_numpy()[c] * interval[c] / 365
                       * np.exp(rng.normal(0, 0.25, len(heads))))
    heads["is_subscription"] = False
    heads["campaign"] = False
    return heads


def lines_for(rng, heads: pd.DataFrame, pools: dict, n_lines: np.ndarray, products: pd.DataFrame,
              basket: np.ndarray | None) -> pd.DataFrame:
    """Order lines: products from the segment's pool; B2B quantities fill the basket value."""
    idx = repeat_index(n_lines)
    prod = _draw_from_pools(rng, pools, heads["segment"].to_numpy()[idx])
    price = products.set_index("product_id")["list_price"].reindex(prod).to_numpy()
    if basket is None:
        qty = 1 + rng.poisson(np.where(heads["segment"].to_numpy()[idx] == "tarjousmetsastaja", 0.9, 0.35))
    else:
        share = rng.dirichlet(np.ones(5), len(heads))[idx, arange_within(n_lines)]
        share = share / np.bincount(idx, weights=share)[idx]
        qty = np.maximum(1, np.round(basket[idx] * share / price))
    return pd.DataFrame({"head": idx, "line_no": arange_within(n_lines) + 1, "product_id": prod,
                         "quantity": qty.astype(int)})


def price_lines(lines: pd.DataFrame, heads: pd.DataFrame, products: pd.DataFrame) -> pd.DataFrame:
    """Add prices, discounts, VAT by order date, amounts and cost of goods to order lines."""
    p = products.set_index("product_id")
    h = heads.iloc[lines["head"].to_numpy()]
    lines["unit_price"] = p["list_price"].reindex(lines["product_id"]).to_numpy()
    lines["discount_pct"] = h["discount_pct"].to_numpy()
    cat = p["category"].reindex(lines["product_id"]).to_numpy()
    lines["vat_rate"] = vat_rate(cat, h["day"].to_numpy())
    lines["net_amount"] = np.round(lines["quantity"] * lines["unit_price"] * (1 - lines["discount_pct"] / 100), 2)
    lines["vat_amount"] = np.round(lines["net_amount"] * lines["vat_rate"], 2)
    lines["gross_amount"] = np.round(lines["net_amount"] + lines["vat_amount"], 2)
    lines["cost_amount"] = np.round(lines["quantity"] * p["unit_cost"].reindex(lines["product_id"]).to_numpy(), 2)
    return lines


def contracts_table(rng, customer_ids, truth: pd.DataFrame, start: np.ndarray, end: np.ndarray) -> pd.DataFrame:
    """Two-year contracts for A customers (and some B customers), renewed while the customer stays."""
    port = truth["portfolio"].to_numpy()
    has = ((port == "A") | ((port == "B") & (rng.random(len(port)) < 0.3))) & (start >= -10000) & (end >= 0)
    first = np.maximum(start, -1400)
    span = np.maximum(np.minimum(end, N_DAYS + 300) - first, 1)
    k = np.where(has, np.ceil(span / 730).astype(int), 0)
    i = repeat_index(k)
    s = first[i] + 730 * arange_within(k)
    value = np.round(truth["annual_spend"].to_numpy()[i] * rng.uniform(0.8, 1.0, len(i)), -2)
    level = np.where(port[i] == "A", pick(rng, ["premium", "laaja"], len(i), [0.4, 0.6]), "perus")
    df = pd.DataFrame({"customer_id": np.asarray(customer_ids)[i], "start_date": to_date(s),
                       "end_date": to_date(s + 729), "annual_value": value, "service_level": level})
    df = df[df["start_date"] <= to_date(N_DAYS - 1)].reset_index(drop=True)
    df.insert(0, "contract_id", ids("SOP", len(df), 4))
    return df


def care_activities(rng, cust: pd.DataFrame, start: np.ndarray, end: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Account-management activities following each customer's care model, with planted slips.

    Slack managers stretch the interval by 60 %; about one A customer in five has been forgotten
    for the last months of 2025. Returns the activity rows and the planted truth per customer.
    """
    port = cust["portfolio"].to_numpy()
    manager = cust["account_manager_id"].to_numpy()
    interval = np.array([CARE_INTERVAL[p] for p in port], dtype=float)
    interval *= np.where(np.isin(manager, vocab.SLACK_MANAGERS), 1.6, 1.0) * np.exp(rng.normal(0, 0.15, len(port)))
    forgotten = (port == "A") & (rng.random(len(port)) < 0.2)
    stop = np.where(forgotten, N_DAYS - 1 - rng.integers(75, 200, len(port)), N_DAYS - 1)
    a = np.maximum(start, 0)
    b = np.minimum(end, stop)
    n = np.where(b > a, np.floor((b - a) / interval).astype(int), 0)
    i = repeat_index(n)
    day = np.clip(a[i] + np.round(interval[i] * (arange_within(n) + rng.uniform(0.3, 1.0, len(i)))).astype(int),
                  0, N_DAYS - 1)
    types = {"A": {"käynti": 6, "tapaaminen": 2, "puhelu": 2}, "B": {"käynti": 3, "puhelu": 5, "sähköposti": 2},
             "C": {"puhelu": 6, "sähköposti": 4}, "D": {"sähköposti": 8, "puhelu": 2}}
    act_type = _draw_from_pools(rng, types, port[i])
    df = pd.DataFrame({"customer_id": cust["customer_id"].to_numpy()[i], "staff_id": manager[i],
                       "activity_type": act_type, "day": day, "opportunity_id": None})
    truth = pd.DataFrame({"customer_id": cust["customer_id"].to_numpy(), "forgotten": forgotten,
                          "slack": np.isin(manager, vocab.SLACK_MANAGERS)})
    return df, truth


def finish_activities(rng, acts: pd.DataFrame, contacts: pd.DataFrame) -> pd.DataFrame:
    """Add contact, duration, outcome and note to activity rows; give them ids in date order."""
    acts = acts.sort_values(["day", "customer_id"], kind="stable").reset_index(drop=True)
    n = len(acts)
    first = pd.Series(np.arange(len(contacts))).groupby(contacts["customer_id"].to_numpy()).min()
    size = contacts.groupby("customer_id").size()
    f = acts["customer_id"].map(first).to_numpy()
    k = acts["customer_id"].map(size).fillna(0).to_numpy()
    has = ~np.isnan(f)
    j = np.where(rng.random(n) < 0.6, 0, np.floor(rng.random(n) * np.maximum(k, 1)))
    contact = np.full(n, None, dtype=object)
    contact[has] = contacts["contact_id"].to_numpy()[(f[has] + j[has]).astype(int)]
    given = acts.get("contact_id")
    if given is not None:
        contact = np.where(pd.notna(given), given, contact)
    t = acts["activity_type"].to_numpy()
    dur_range = {"käynti": (45, 120), "puhelu": (5, 30), "sähköposti": (5, 15), "tapaaminen": (45, 90),
                 "webinaari": (45, 60)}
    lo = np.array([dur_range[x][0] for x in t])
    hi = np.array([dur_range[x][1] for x in t])
    outcome = pick(rng, ["onnistui", "jatkotoimenpide", "ei tavoitettu", "ei kiinnostusta"], n, [5, 3, 1.5, 0.5])
    outcome[(t != "puhelu") & (outcome == "ei tavoitettu")] = "onnistui"
    notes = _draw_from_pools(rng, {k_: dict.fromkeys(v, 1) for k_, v in vocab.ACTIVITY_NOTES.items()}, t)
    return pd.DataFrame({
        "activity_id": ids("AKT", n, 6), "customer_id": acts["customer_id"].to_numpy(), "contact_id": contact,
        "staff_id": acts["staff_id"].to_numpy(), "activity_type": t, "activity_date": to_date(acts["day"].to_numpy()),
        "duration_min": rng.integers(lo, hi + 1), "opportunity_id": acts["opportunity_id"].to_numpy(),
        "outcome": outcome, "note": notes,
    })


def service_costs(rng, orders: pd.DataFrame, order_net: pd.Series, activities: pd.DataFrame, costly_ids,
                  machine_spells: pd.DataFrame) -> pd.DataFrame:
    """Cost-to-serve events: deliveries, service contacts, sales visits, complaints, maintenance."""
    o = orders[orders["status"] != "peruttu"]
    net = order_net.reindex(o["order_id"]).to_numpy()
    b2b = o["channel"].isin(["myyjä", "puhelin", "portaali", "EDI"]).to_numpy()
    method = o["delivery_method"].to_numpy()
    costly = o["customer_id"].isin(costly_ids).to_numpy()
    parts = []
    delivered = method != "nouto"
    deliv_cost = np.select([method == "postipaketti", method == "kotiinkuljetus", method == "oma jakelu"],
                           [6.90, 9.50, 42.0], 32.0) + np.where(b2b, 0.05 * net, 0)
    parts.append(pd.DataFrame({"customer_id": o["customer_id"].to_numpy()[delivered], "day": o["day"].to_numpy()[delivered],
                               "cost_type": "toimitus", "amount": deliv_cost[delivered]}))
    p_service = np.where(b2b, 0.06, 0.04) * np.where(costly, 4.0, 1.0)
    m = rng.random(len(o)) < p_service
    parts.append(pd.DataFrame({"customer_id": o["customer_id"].to_numpy()[m],
                               "day": np.minimum(o["day"].to_numpy()[m] + rng.integers(1, 6, m.sum()), N_DAYS - 1),
                               "cost_type": "asiakaspalvelu", "amount": rng.uniform(8, 18, m.sum())}))
    complaint = (o["delivered_late"].to_numpy() & (rng.random(len(o)) < 0.5)) | (o["status"].to_numpy() == "palautettu")
    complaint |= costly & (rng.random(len(o)) < 0.10)
    parts.append(pd.DataFrame({"customer_id": o["customer_id"].to_numpy()[complaint],
                               "day": np.minimum(o["day"].to_numpy()[complaint] + rng.integers(2, 10, complaint.sum()),
                                                 N_DAYS - 1),
                               "cost_type": "reklamaatio",
                               "amount": np.where(b2b[complaint], 85.0, 35.0) * rng.uniform(0.8, 1.2, complaint.sum())}))
    v = activities[activities["activity_type"].isin(["käynti", "tapaaminen"])]
    parts.append(pd.DataFrame({"customer_id": v["customer_id"].to_numpy(),
                               "day": v["day"].to_numpy(),
                               "cost_type": "myyntikäynti",
                               "amount": np.where(v["activity_type"].to_numpy() == "käynti", 115.0, 80.0)}))
    k = np.maximum((machine_spells["end"] - machine_spells["start"]).to_numpy() // 91, 0)
    i = repeat_index(k)
    parts.append(pd.DataFrame({"customer_id": machine_spells["customer_id"].to_numpy()[i],
                               "day": machine_spells["start"].to_numpy()[i] + 91 * (arange_within(k) + 1),
                               "cost_type": "laitehuolto", "amount": rng.uniform(80, 120, len(i))}))
    df = pd.concat(parts, ignore_index=True)
    df = df[df["day"] <= N_DAYS - 1].sort_values(["day", "customer_id", "cost_type"], kind="stable")
    df = df.reset_index(drop=True)
    return pd.DataFrame({"cost_id": ids("KUS", len(df), 6), "customer_id": df["customer_id"].to_numpy(),
                         "incurred_on": to_date(df["day"].to_numpy()), "cost_type": df["cost_type"].to_numpy(),
                         "amount": np.round(df["amount"].to_numpy().astype(float), 2)})
