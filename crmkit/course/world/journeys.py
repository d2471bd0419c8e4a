"""The digital side of the data world: campaign members, web sessions, touchpoints, surveys.

Planted: the B2C funnel's clear drop-off is cart -> checkout when delivery is paid, worst on
mobile; reading reviews and campaign prices raise add-to-cart and returning visitors buy more
often; NPS is lowest for deliveries and phone service; comment keywords go with the scores.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmkit.course.world import vocab
from crmkit.course.world.sim import (
    N_DAYS,
    T0,
    ids,
    month_weights,
    pick,
    random_seconds,
    sample_days,
    to_date,
    to_datetime,
)

WEB_START = (pd.Timestamp("2025-01-01") - T0).days  # web analytics was switched on 2025-01-01
CDP_START = (pd.Timestamp("2024-01-01") - T0).days  # journeys are tracked from 2024-01-01

FUNNEL = dict(view=0.80, reviews=0.35, cart=0.50, cart_reviews=0.12, cart_campaign=0.10,
              checkout_free=0.78, checkout_paid={"tietokone": 0.48, "tabletti": 0.40, "mobiili": 0.25},
              buy=0.82, buy_returning=0.08)


def campaign_members(rng, campaigns: pd.DataFrame, customers: pd.DataFrame, b2c_segment: pd.Series,
                     orders: pd.DataFrame) -> pd.DataFrame:
    """Addressable campaigns (e-mail, direct mail, sales) and the consenting customers they targeted."""
    parts = []
    signup = customers["signup_date"]
    deal = customers["customer_id"].map(b2c_segment).eq("tarjousmetsastaja").to_numpy()
    for c in campaigns.itertuples():  # one iteration per campaign (27), not per row
        if c.channel not in ("sähköposti", "suoramainonta", "myyjä"):
            continue
        eligible = (customers["customer_type"].eq(c.audience) & customers["marketing_consent"]
                    & (signup <= c.start_date)).to_numpy().copy()
        if c.audience == "B2B":
            eligible &= rng.random(len(customers)) < 0.5
        idx = np.flatnonzero(eligible)
        d = deal[idx]
        opened = rng.random(len(idx)) < np.where(d, 0.6, 0.33)
        clicked = opened & (rng.random(len(idx)) < np.where(d, 0.5, 0.25))
        parts.append(pd.DataFrame({"campaign_id": c.campaign_id, "customer_id": customers["customer_id"].to_numpy()[idx],
                                   "sent_at": c.start_date, "opened": opened, "clicked": clicked}))
    members = pd.concat(parts, ignore_index=True)
    first_order = (orders.dropna(subset=["campaign_id"]).sort_values("order_date", kind="stable")
                   .drop_duplicates(["campaign_id", "customer_id"])[["campaign_id", "customer_id", "order_id"]])
    members = members.merge(first_order, on=["campaign_id", "customer_id"], how="left")
    return members


def _funnel(rng, n: int, campaign: bool, free: bool) -> pd.DataFrame:
    device = pick(rng, ["mobiili", "tietokone", "tabletti"], n, [0.55, 0.38, 0.07])
    returning = rng.random(n) < 0.45
    view = rng.random(n) < FUNNEL["view"]
    reviews = view & (rng.random(n) < FUNNEL["reviews"])
    p_cart = FUNNEL["cart"] + FUNNEL["cart_reviews"] * reviews + FUNNEL["cart_campaign"] * campaign
    cart = view & (rng.random(n) < p_cart)
    p_check = FUNNEL["checkout_free"] if free else np.array([FUNNEL["checkout_paid"][d] for d in device])
    checkout = cart & (rng.random(n) < p_check)
    buy = checkout & (rng.random(n) < FUNNEL["buy"] + FUNNEL["buy_returning"] * returning)
    return pd.DataFrame({"device": device, "returning_visitor": returning, "viewed_product": view,
                         "read_reviews": reviews, "added_to_cart": cart, "started_checkout": checkout,
                         "purchased": buy, "reviews_read": np.where(reviews, 1 + rng.poisson(3, n), 0),
                         "price_level": "kampanja" if campaign else "normaali",
                         "delivery_option_shown": "ilmainen" if free else "maksullinen"})


def web_sessions(rng, orders: pd.DataFrame, b2c_active: pd.DataFrame, campaigns: pd.DataFrame) -> pd.DataFrame:
    """Web-shop sessions of 2025: a bit over half of the web orders have a tracked session (cookie consent)."""
    web = orders[(orders["channel"] == "verkkokauppa") & ~orders["is_subscription"] & (orders["day"] >= WEB_START)]
    camp = campaigns[campaigns["audience"] == "B2C"]
    camp_days = np.concatenate([np.arange(a, b + 1) for a, b in zip((camp["start_date"] - T0).dt.days,
                                                                      (camp["end_date"] - T0).dt.days)])
    camp_days = camp_days[camp_days >= WEB_START]
    day_to_campaign = pd.Series(np.repeat(camp["campaign_id"].to_numpy(),
                                          ((camp["end_date"] - camp["start_date"]).dt.days + 1).to_numpy()),
                                index=np.concatenate([np.arange(a, b + 1) for a, b in zip(
                                    (camp["start_date"] - T0).dt.days, (camp["end_date"] - T0).dt.days)]))
    parts = []
    for campaign in (True, False):
        for free in (True, False):
            g = web[web["campaign_id"].notna().eq(campaign) & web["delivery_fee"].eq(0).eq(free)]
            target = int(round(0.55 * len(g)))
            sim = _funnel(rng, max(int(target / 0.12) + 200, 400), campaign, free)
            # keep sessions in the order simulated until the target-th purchase
            cut = np.searchsorted(np.cumsum(sim["purchased"].to_numpy()), target) + 1
            sim = sim.iloc[:cut].reset_index(drop=True)
            buy = sim["purchased"].to_numpy()
            chosen = g.iloc[rng.permutation(len(g))[:buy.sum()]]
            day = np.empty(len(sim), dtype=int)
            day[buy] = chosen["day"].to_numpy()
            n_other = int((~buy).sum())
            if campaign:
                day[~buy] = camp_days[rng.integers(0, len(camp_days), n_other)]
            else:
                day[~buy] = sample_days(rng, np.full(n_other, WEB_START), np.full(n_other, N_DAYS - 1),
                                        month_weights({12: 1.6, 11: 1.2, 7: 0.8}))
            cust = np.full(len(sim), None, dtype=object)
            cust[buy] = chosen["customer_id"].to_numpy()
            known = ~buy & sim["returning_visitor"].to_numpy() & (rng.random(len(sim)) < 0.6)
            cust[known] = b2c_active["customer_id"].to_numpy()[rng.integers(0, len(b2c_active), known.sum())]
            order = np.full(len(sim), None, dtype=object)
            order[buy] = chosen["order_id"].to_numpy()
            sim["day"], sim["customer_id"], sim["order_id"] = day, cust, order
            sim["campaign_id"] = pd.Series(day).map(day_to_campaign).to_numpy() if campaign else None
            if campaign:
                sim.loc[buy, "campaign_id"] = chosen["campaign_id"].to_numpy()
            src = (["sähköposti", "some", "mainos"], [0.5, 0.3, 0.2]) if campaign else (
                ["hakukone", "suora", "some", "mainos", "sähköposti"], [0.4, 0.3, 0.15, 0.1, 0.05])
            sim["traffic_source"] = pick(rng, src[0], len(sim), src[1])
            parts.append(sim)
    s = pd.concat(parts, ignore_index=True)
    s["started_at"] = to_datetime(s["day"].to_numpy(), random_seconds(rng, len(s), 6.5, 23.5)).to_numpy()
    s = s.sort_values("started_at", kind="stable").reset_index(drop=True)
    anon = s["customer_id"].isna().to_numpy()
    visitor = np.where(anon, "V9" + pd.Series(rng.integers(0, 10**6, len(s))).astype(str).str.zfill(6),
                       "V" + s["customer_id"].fillna("").str[1:] + "0")
    s.insert(0, "session_id", ids("WS", len(s), 6))
    s.insert(1, "visitor_id", visitor)
    cols = ["session_id", "visitor_id", "customer_id", "started_at", "device", "traffic_source", "campaign_id",
            "returning_visitor", "viewed_product", "read_reviews", "added_to_cart", "started_checkout", "purchased",
            "reviews_read", "price_level", "delivery_option_shown", "order_id"]
    return s[cols]


def touchpoints_and_surveys(rng, orders: pd.DataFrame, customers: pd.DataFrame, segment: pd.Series,
                            members: pd.DataFrame, activities: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Journey events of 2024–2025 (B2C orders and service, B2B sales visits) and the surveys they prompt."""
    seg = pd.Series(customers["customer_id"].map(segment).to_numpy(), index=customers["customer_id"].to_numpy())
    app_p = {"harrastaja": 0.6, "arkiostaja": 0.25}
    app_user = pd.Series(rng.random(len(seg)) < seg.map(app_p).fillna(0.1).to_numpy(), index=seg.index)
    o = orders[(orders["day"] >= CDP_START) & orders["channel"].isin(["verkkokauppa", "myymälä"])]
    o = o[o["status"] != "peruttu"]
    cid = o["customer_id"].to_numpy()
    web = o["channel"].to_numpy() == "verkkokauppa"
    web_channel = np.where(app_user.reindex(cid).to_numpy(), "sovellus", "verkkosivu")
    first = ~o.duplicated("customer_id").to_numpy() & (o["day"].to_numpy() == o["customer_id"].map(
        customers.set_index("customer_id")["signup_day"]).to_numpy())
    ev = []

    def add(mask, day, secs, channel, touchpoint, stage, late=False):
        n = int(np.sum(mask))
        ev.append(pd.DataFrame({"customer_id": cid[mask], "day": np.asarray(day)[mask] if np.ndim(day) else day,
                                "secs": np.asarray(secs)[mask], "channel": np.asarray(channel, dtype=object)[mask]
                                if np.ndim(channel) else channel,
                                "touchpoint": touchpoint, "journey_stage": stage,
                                "late": np.asarray(late)[mask] if np.ndim(late) else np.full(n, late)}))

    d = o["day"].to_numpy()
    secs = random_seconds(rng, len(o), 8, 21)
    acq = o["customer_id"].map(customers.set_index("customer_id")["acquisition_channel"]).to_numpy()
    aware_channel = pd.Series(acq).map({"some": "some", "hakukone": "verkkosivu", "mainos": "verkkosivu",
                                        "sähköposti": "sähköposti", "myymälä": "myymälä",
                                        "suosittelu": "some"}).fillna("verkkosivu").to_numpy()
    add(first, np.maximum(d - rng.integers(1, 15, len(o)), CDP_START), secs, aware_channel, "mainos", "tietoisuus")
    add(web & (rng.random(len(o)) < 0.5), d, np.maximum(secs - 900, 0), web_channel, "tuotesivu", "harkinta")
    add(web & (rng.random(len(o)) < 0.3), d, np.maximum(secs - 600, 0), web_channel, "arvostelu", "harkinta")
    buy_channel = np.where(web, web_channel, "myymälä")
    add(first, d, secs + 60, buy_channel, "osto", "osto")
    add(~first, d, secs + 60, buy_channel, "uusintaosto", "uskollisuus")
    late = o["delivered_late"].to_numpy()
    ship = web & (o["delivery_method"].to_numpy() != "nouto")
    add(ship, np.minimum(d + np.where(late, rng.integers(5, 10, len(o)), rng.integers(1, 4, len(o))), N_DAYS - 1),
        secs, "sähköposti", "toimitus", "käyttö", late)
    complaint = ship & late & (rng.random(len(o)) < 0.55)
    add(complaint, np.minimum(d + 9, N_DAYS - 1), secs, pick(rng, ["puhelin", "chat", "sähköposti"], len(o)),
        "reklamaatio", "käyttö", True)
    service = rng.random(len(o)) < 0.06
    add(service, np.minimum(d + rng.integers(1, 20, len(o)), N_DAYS - 1), secs,
        pick(rng, ["puhelin", "chat"], len(o)), "asiakaspalvelu", "käyttö")
    # newsletters opened (awareness) and B2B sales visits
    m = members[members["opened"] & (members["sent_at"] >= to_date(CDP_START))]
    cid = m["customer_id"].to_numpy()
    add(np.ones(len(m), bool), (m["sent_at"] - T0).dt.days.to_numpy(), random_seconds(rng, len(m), 7, 22),
        "sähköposti", "uutiskirje", "tietoisuus")
    v = activities[(activities["activity_type"] == "käynti") & (activities["activity_date"] >= to_date(CDP_START))]
    cid = v["customer_id"].to_numpy()
    add(np.ones(len(v), bool), (v["activity_date"] - T0).dt.days.to_numpy(), random_seconds(rng, len(v), 8, 16),
        "myyjän käynti", "asiakaspalvelu", "käyttö")
    tp = pd.concat(ev, ignore_index=True)
    tp = tp[tp["day"] <= N_DAYS - 1]
    tp["occurred_at"] = to_datetime(tp["day"].to_numpy(), tp["secs"].to_numpy()).to_numpy()

    # surveys after a sample of touchpoints
    p_ask = tp["touchpoint"].map({"toimitus": 0.15, "osto": 0.10, "uusintaosto": 0.04, "asiakaspalvelu": 0.30,
                                  "reklamaatio": 0.45}).fillna(0).to_numpy()
    p_ask = np.where(tp["channel"].to_numpy() == "myyjän käynti", 0.25, p_ask)
    ask = tp[(rng.random(len(tp)) < p_ask)].copy()
    n = len(ask)
    base = ask["touchpoint"].map({"osto": 8.5, "uusintaosto": 8.8, "toimitus": 7.0, "reklamaatio": 4.2,
                                  "asiakaspalvelu": 7.9}).to_numpy()
    base = np.where(ask["channel"].to_numpy() == "puhelin", base - 1.8, base)
    base = np.where(ask["channel"].to_numpy() == "myyjän käynti", 8.4, base)
    base = base - 3.0 * ask["late"].to_numpy() * (ask["touchpoint"].to_numpy() == "toimitus")
    base = base + 0.5 * (ask["customer_id"].map(segment).to_numpy() == "harrastaja")
    nps = np.clip(np.round(rng.normal(base, 1.4)), 0, 10).astype(int)
    csat = np.clip(np.round(1 + 0.4 * nps + rng.normal(0, 0.5, n)), 1, 5).astype(int)
    late_ = ask["late"].to_numpy() & np.isin(ask["touchpoint"].to_numpy(), ["toimitus", "reklamaatio"])
    phone = ask["channel"].to_numpy() == "puhelin"
    bad = np.where(late_, pick(rng, [c for c in vocab.COMMENTS_BAD if "myöhässä" in c], n),
                   np.where(phone, "Puhelinpalvelussa piti jonottaa pitkään.",
                            pick(rng, [c for c in vocab.COMMENTS_BAD if "myöhässä" not in c and "Puhelin" not in c], n)))
    comment = np.select([nps >= 9, nps >= 7], [pick(rng, vocab.COMMENTS_GOOD, n), pick(rng, vocab.COMMENTS_MID, n)],
                        bad).astype(object)
    comment[rng.random(n) < 0.5] = None
    answered = ask["day"].to_numpy() + rng.integers(0, 3, n)
    keep = answered <= N_DAYS - 1
    surveys = pd.DataFrame({"customer_id": ask["customer_id"].to_numpy(),
                            "answered_at": to_datetime(answered, random_seconds(rng, n, 7, 23)).to_numpy(),
                            "touchpoint": ask["touchpoint"].to_numpy(), "channel": ask["channel"].to_numpy(),
                            "nps": nps, "csat": csat, "comment": comment})[keep]
    surveys = surveys.sort_values("answered_at", kind="stable").reset_index(drop=True)
    surveys.insert(0, "response_id", ids("R", len(surveys), 6))
    fb = pd.DataFrame({"customer_id": surveys["customer_id"], "occurred_at": surveys["answered_at"],
                       "channel": surveys["channel"], "touchpoint": "palaute", "journey_stage": "uskollisuus"})
    tp = pd.concat([tp[["customer_id", "occurred_at", "channel", "touchpoint", "journey_stage"]], fb],
                   ignore_index=True).sort_values(["occurred_at", "customer_id"], kind="stable").reset_index(drop=True)
    tp.insert(0, "event_id", ids("E", len(tp), 7))
    return tp, surveys
