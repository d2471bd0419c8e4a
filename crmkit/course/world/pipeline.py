"""The B2B sales pipeline and the marketing calendar: campaigns and opportunities.

Planted: stage conversion depends on the lead source (referrals best, cold calls worst), the
win rate rises with the number of buying-centre roles met and most when the decider is met,
and the sales cycle is longer for larger customers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmkit.course.world import vocab
from crmkit.course.world.sim import N_DAYS, T0, arange_within, ids, pick, repeat_index, to_date
from crmkit.runtime.schema import LEAD_SOURCES, STAGES

LEAD_SOURCE_SHARE = {"messut": 0.15, "verkkosivu": 0.25, "suosittelu": 0.14, "kylmäsoitto": 0.20,
                     "kampanja": 0.16, "kumppani": 0.10}
LEAD_SOURCE_LIFT = {"messut": 1.0, "verkkosivu": 0.95, "suosittelu": 1.3, "kylmäsoitto": 0.6,
                    "kampanja": 0.85, "kumppani": 1.05}
BASE_ADVANCE = (0.80, 0.70, 0.75)  # liidi->kontaktointi, kontaktointi->tarjous, tarjous->neuvottelu
WIN_PROBABILITY = {"liidi": 0.10, "kontaktointi": 0.20, "tarjous": 0.40, "neuvottelu": 0.60, "tilaus": 1.0,
                   "menetetty": 0.0}

# (name, month, first day, last day, channel, target segment) repeated every year
B2C_CAMPAIGNS = (
    ("Talven tarjousviikot", 2, 1, 14, "sähköposti", "luvan antaneet kuluttaja-asiakkaat"),
    ("Kevään uutuuspapu", 4, 10, 24, "some", "kaikki kuluttajat"),
    ("Kesäkahvit", 6, 5, 19, "sähköposti", "luvan antaneet kuluttaja-asiakkaat"),
    ("Syysale", 9, 15, 29, "hakukone", "uudet asiakkaat"),
    ("Black Friday", 11, 20, 30, "sähköposti", "luvan antaneet kuluttaja-asiakkaat"),
    ("Joulukahvit", 12, 5, 20, "some", "lahjaostajat"),
)
B2B_CAMPAIGNS = (
    ("Toimistokahvi-kampanja", 3, 1, 31, "myyjä", "toimistot"),
    ("Horeca-syksy", 9, 1, 30, "suoramainonta", "kahvilat ja ravintolat"),
    ("Kahvilamessut", 10, 5, 6, "myyjä", "kahvilat, hotellit ja jälleenmyyjät"),
)


def pipeline_stages() -> pd.DataFrame:
    """The CRM's pipeline stages with their forecast weights."""
    return pd.DataFrame({"stage": list(STAGES), "stage_order": np.arange(1, len(STAGES) + 1),
                         "win_probability": [WIN_PROBABILITY[s] for s in STAGES]})


def campaigns_table(rng: np.random.Generator) -> pd.DataFrame:
    """Every campaign of 2023–2025, B2C and B2B."""
    rows = []
    for audience, plan in (("B2C", B2C_CAMPAIGNS), ("B2B", B2B_CAMPAIGNS)):
        for year in (2023, 2024, 2025):
            for name, month, d1, d2, channel, target in plan:
                rows.append((f"{name} {year}", audience, channel, pd.Timestamp(year, month, d1),
                             pd.Timestamp(year, month, d2), target))
    df = pd.DataFrame(rows, columns=["name", "audience", "channel", "start_date", "end_date", "target_segment"])
    df = df.sort_values(["start_date", "audience"], kind="stable").reset_index(drop=True)
    df.insert(0, "campaign_id", ids("K", len(df), 3).astype(str))
    df["campaign_id"] = "CMP" + df["campaign_id"].str[1:]
    df["cost"] = np.round(rng.uniform(800, 6000, len(df)), -1)
    return df


def campaign_windows(campaigns: pd.DataFrame, audience: str) -> list[tuple[int, int]]:
    """The campaigns' [first, last] days as day offsets."""
    c = campaigns[campaigns["audience"] == audience]
    return list(zip((c["start_date"] - T0).dt.days, (c["end_date"] - T0).dt.days))


def simulate_cases(rng, created, lead_source, employees, n_met, decider_met):
    """Run opportunities through the pipeline; return stage reached, outcome and dates per stage.

    Returns a dict with ``entered`` (n x 5 day offsets for liidi..neuvottelu and close; -1 where
    not reached), ``won`` and ``lost`` flags (only for cases closed by today) and ``last_stage``.
    """
    n = len(created)
    lift = np.array([LEAD_SOURCE_LIFT[s] for s in lead_source])
    p = np.column_stack([np.clip(b * lift, 0.05, 0.97) for b in BASE_ADVANCE]
                        + [np.clip(0.18 + 0.09 * n_met + 0.25 * decider_met, 0.05, 0.95)])
    passed = rng.random((n, 4)) < p
    reach = np.cumprod(passed, axis=1).astype(bool)  # reach[:, i]: passed transition i
    stage_days = 6 * (1 + np.log10(employees))[:, None] * rng.exponential(1.0, (n, 4)) + 2
    t = created[:, None] + np.cumsum(np.round(stage_days).astype(int), axis=1)  # time of each transition/exit
    entered = np.full((n, 5), -1)
    entered[:, 0] = created
    for i in range(4):  # the pipeline has four transitions; a loop over stages, not rows
        prev_ok = reach[:, i - 1] if i > 0 else np.ones(n, bool)
        entered[:, i + 1] = np.where(prev_ok, t[:, i], -1)
    # where a case falls out, it is lost at the time of its failed transition
    first_fail = np.where(reach.all(axis=1), 4, np.argmin(reach, axis=1))
    exit_day = t[np.arange(n), np.minimum(first_fail, 3)]
    won_path = first_fail == 4
    closed = exit_day <= N_DAYS - 1
    won = won_path & closed
    lost = ~won_path & closed
    # open cases: the last stage entered by today
    entered_by_today = np.where((entered >= 0) & (entered <= N_DAYS - 1), entered, -1)
    entered_by_today[:, 4] = -1
    last_open = (entered_by_today[:, :4] >= 0).sum(axis=1) - 1
    entered = np.where(entered <= N_DAYS - 1, entered, -1)
    entered[:, 4] = np.where(closed, exit_day, -1)
    return {"entered": entered, "won": won, "lost": lost, "last_open": last_open, "fail_stage": first_fail}


def opportunities(rng, cases: pd.DataFrame, contacts: pd.DataFrame, start_id: int = 1):
    """Opportunities, their stage history and the contacts met, for the given cases.

    ``cases`` has columns customer_id, created (day), lead_source, employees, amount, owner_id.
    Returns (opportunities, history, opportunity_contacts, outcome) where outcome holds the
    won flag and close day per case.
    """
    n = len(cases)
    cust_contacts = contacts.groupby("customer_id", sort=False)
    k = cases["customer_id"].map(cust_contacts.size()).fillna(0).astype(int).to_numpy()
    n_met = np.minimum(1 + rng.binomial(np.maximum(k - 1, 0), 0.45), k)
    # contacts appear in random role order per customer, so "the first n_met" is a random subset
    first_of_customer = pd.Series(np.arange(len(contacts))).groupby(contacts["customer_id"].to_numpy()).min()
    first_row = cases["customer_id"].map(first_of_customer).fillna(0).astype(int).to_numpy()
    met_rows = first_row[repeat_index(n_met)] + arange_within(n_met)
    met = contacts.iloc[met_rows]
    case_of_met = repeat_index(n_met)
    decider_met = np.zeros(n, bool)
    np.logical_or.at(decider_met, case_of_met, met["buying_role"].to_numpy() == "päättäjä")
    sim = simulate_cases(rng, cases["created"].to_numpy(), cases["lead_source"].to_numpy(),
                         cases["employees"].to_numpy(), n_met, decider_met)
    opp_id = ids("OPP", n, 5, start_id)
    stage = np.where(sim["won"], "tilaus", np.where(sim["lost"], "menetetty",
                                                     np.array(STAGES[:4], dtype=object)[np.maximum(sim["last_open"], 0)]))
    close = sim["entered"][:, 4]
    lost_reason = np.where(sim["lost"], pick(rng, vocab.LOST_REASONS, n), None)
    lost_reason[sim["lost"] & ~decider_met & (rng.random(n) < 0.5)] = "päättäjää ei tavoitettu"
    opps = pd.DataFrame({
        "opportunity_id": opp_id, "customer_id": cases["customer_id"].to_numpy(),
        "created_date": to_date(cases["created"].to_numpy()), "lead_source": cases["lead_source"].to_numpy(),
        "stage": stage, "amount": cases["amount"].to_numpy().astype(float),
        "close_date": pd.Series(to_date(np.maximum(close, 0))).where(close >= 0),
        "owner_id": cases["owner_id"].to_numpy(), "lost_reason": lost_reason,
    })
    # history: one row per stage entered, plus the closing stage
    ent = sim["entered"]
    hist_parts = []
    for i, s in enumerate(STAGES[:4]):
        m = ent[:, i] >= 0
        hist_parts.append(pd.DataFrame({"opportunity_id": opp_id[m], "stage": s, "entered_at": ent[m, i]}))
    m = close >= 0
    hist_parts.append(pd.DataFrame({"opportunity_id": opp_id[m], "stage": stage[m], "entered_at": close[m]}))
    hist = pd.concat(hist_parts, ignore_index=True)
    hist["entered_at"] = to_date(hist["entered_at"].to_numpy())
    hist = hist.sort_values(["opportunity_id", "entered_at"], kind="stable").reset_index(drop=True)
    opp_contacts = pd.DataFrame({"opportunity_id": opp_id[case_of_met], "contact_id": met["contact_id"].to_numpy()})
    outcome = pd.DataFrame({"won": sim["won"], "close": close, "n_met": n_met, "decider_met": decider_met})
    return opps, hist, opp_contacts, outcome


def lead_sources(rng, n: int) -> np.ndarray:
    """Lead sources with the company's typical mix."""
    return pick(rng, list(LEAD_SOURCES), n, [LEAD_SOURCE_SHARE[s] for s in LEAD_SOURCES])
