"""Generate the data world of Paahtimo Aurora Oy: deterministic for a seed, vectorised, scalable.

``generate_world(seed, scale)`` returns every table of :mod:`crmkit.runtime.schema` plus the hidden truth
(latent segment, true portfolio, churn day, planted flags) that tests and teacher notes use.
``write_world(out_dir, ...)`` writes the CSV files, the SQLite CRM and the messy register export.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from crmkit.course.world import crmdb, journeys, messy, people, pipeline, sales, vocab
from crmkit.course.world.sim import N_DAYS, ids, pick, sample_days, to_date
from crmkit.runtime.data import GENERATED, INFO_FILE, DataInfo, data_info, write_info, write_table
from crmkit.runtime.errors import KitError
from crmkit.runtime.schema import TABLE_BY_NAME, TABLES, TODAY

DEFAULT_SEED = 2026


@dataclass
class World:
    """The generated tables (keyed by table name) and the hidden truth per customer."""

    tables: dict[str, pd.DataFrame]
    truth: pd.DataFrame
    seed: int
    scale: float


def _rngs(seed: int):
    return lambda k: np.random.default_rng([seed, k])


def _b2b_cases(rng, b2b, who, created, amount, account_manager):
    lead = pipeline.lead_sources(rng, len(who))
    inside = np.isin(lead, ["kylmäsoitto", "kampanja"])
    owner = np.where(inside, pick(rng, ["S10", "S11", "S12"], len(who)), account_manager[who])
    return pd.DataFrame({"customer_id": b2b["customer_id"].to_numpy()[who], "created": created,
                         "lead_source": lead, "employees": b2b["employees"].to_numpy()[who],
                         "amount": amount, "owner_id": owner})


def generate_world(seed: int = DEFAULT_SEED, scale: float = 1.0) -> World:
    """Generate every table of the data world for `seed` at `scale` (1 = the committed data/)."""
    rng = _rngs(seed)
    staff = people.staff_table()
    products = sales.products_table()
    campaigns = pipeline.campaigns_table(rng(1))

    # --- who: consumers and companies --------------------------------------------------------
    b2c, b2c_truth = people.b2c_customers(rng(2), scale)
    b2c.insert(0, "customer_id", ids("C", len(b2c), 5))
    b2b, b2b_truth = people.b2b_companies(rng(3), scale)
    b2b.insert(0, "customer_id", ids("B", len(b2b), 4))
    manager = people.assign_managers(rng(4), b2b["region"].to_numpy(), b2b["portfolio"].to_numpy())
    contacts = people.contacts_table(rng(5), b2b["customer_id"].to_numpy())

    # --- B2B pipeline: new-business cases decide who becomes a customer ----------------------
    new = np.flatnonzero(b2b_truth["is_new"].to_numpy())
    r = rng(6)
    created = np.floor(r.random(len(new)) * (N_DAYS - 20)).astype(int)
    amount = np.round(b2b_truth["annual_spend"].to_numpy()[new] * r.uniform(0.6, 1.1, len(new)), -2)
    cases_new = _b2b_cases(r, b2b, new, created, amount, manager)
    opp1, hist1, oc1, out1 = pipeline.opportunities(rng(7), cases_new, contacts, start_id=1)
    won_new = out1["won"].to_numpy()
    signup = b2b["signup_day"].to_numpy().copy()
    signup[new] = np.where(won_new, out1["close"].to_numpy(), created)
    start = np.where(b2b_truth["is_new"].to_numpy(), -1, 0)
    start[new[won_new]] = out1["close"].to_numpy()[won_new]
    end = np.where(start >= 0, start + b2b_truth["life"].to_numpy(), -1)
    end = np.where(end >= N_DAYS, N_DAYS - 1 + 10000, end)  # still a customer after today
    b2b["signup_day"] = signup
    b2b["account_manager_id"] = manager

    # upsell cases for active customers: machines and bigger deals
    r = rng(8)
    active = np.flatnonzero(start >= 0)
    n_up = round(220 * scale)
    w = b2b_truth["annual_spend"].to_numpy()[active]
    who = active[r.choice(len(active), n_up, p=w / w.sum())]
    up_created = sample_days(r, start[who], np.minimum(end[who], N_DAYS - 1), np.ones(N_DAYS))
    machine = np.where(r.random(n_up) < 0.7, "P022", "P023")
    qty = 1 + (r.random(n_up) < 0.25)
    price = products.set_index("product_id")["list_price"].reindex(machine).to_numpy()
    cases_up = _b2b_cases(r, b2b, who, up_created, price * qty, manager)
    opp2, hist2, oc2, out2 = pipeline.opportunities(rng(9), cases_up, contacts, start_id=len(opp1) + 1)
    opps = pd.concat([opp1, opp2], ignore_index=True)
    hist = pd.concat([hist1, hist2], ignore_index=True)
    opp_contacts = pd.concat([oc1, oc2], ignore_index=True)

    # --- orders -----------------------------------------------------------------------------
    r = rng(10)
    heads_c = sales.b2c_order_heads(r, b2c, b2c_truth, pipeline.campaign_windows(campaigns, "B2C"))
    heads_c["customer_id"] = b2c["customer_id"].to_numpy()[heads_c["cust"]]
    heads_b = sales.b2b_order_heads(r, b2b_truth, start, np.minimum(end, N_DAYS - 1))
    heads_b["customer_id"] = b2b["customer_id"].to_numpy()[heads_b["cust"]]
    # won new business: the first order on the close day; won upsell: the machine order
    gap = r.random(len(opps)) < 0.04  # planted integration gap: won in the CRM, no order in the ERP
    won1 = np.flatnonzero(won_new & ~gap[:len(opp1)])
    first = pd.DataFrame({"cust": new[won1], "day": out1["close"].to_numpy()[won1],
                          "opportunity_id": opp1["opportunity_id"].to_numpy()[won1]})
    first["segment"] = b2b_truth["segment"].to_numpy()[first["cust"]]
    first["basket"] = b2b_truth["annual_spend"].to_numpy()[first["cust"]] / 12
    won2 = np.flatnonzero(out2["won"].to_numpy() & ~gap[len(opp1):])
    extra_machines = r.choice(active, 6, replace=False)  # planted: machine orders with no opportunity
    mach = pd.DataFrame({
        "cust": np.concatenate([who[won2], extra_machines]),
        "day": np.concatenate([out2["close"].to_numpy()[won2],
                               sample_days(r, start[extra_machines], np.minimum(end[extra_machines], N_DAYS - 1),
                                           np.ones(N_DAYS))]),
        "opportunity_id": np.concatenate([opp2["opportunity_id"].to_numpy()[won2], np.full(6, None)]),
        "machine": np.concatenate([machine[won2], np.full(6, "P023")]),
        "machine_qty": np.concatenate([qty[won2], np.ones(6, int)]),
    })
    mach["segment"] = b2b_truth["segment"].to_numpy()[mach["cust"]]
    for h in (first, mach):
        h["customer_id"] = b2b["customer_id"].to_numpy()[h["cust"]]
        h["is_subscription"] = False
        h["campaign"] = False
    orders, lines = _orders(rng(11), b2c, b2c_truth, b2b, b2b_truth, heads_c, heads_b, first, mach, products,
                            campaigns, manager)

    # --- contracts, activities, cost to serve -------------------------------------------------
    contracts = sales.contracts_table(rng(12), b2b["customer_id"].to_numpy(), b2b_truth, start, end)
    care, care_truth = sales.care_activities(rng(13), b2b[start >= 0], start[start >= 0], end[start >= 0])
    opp_acts = _opportunity_activities(rng(14), opps, hist, opp_contacts)
    acts_raw = pd.concat([care, opp_acts], ignore_index=True)
    activities = sales.finish_activities(rng(15), acts_raw, contacts)
    activities_days = activities.assign(day=(activities["activity_date"] - to_date(0)).dt.days)
    net = lines.groupby("order_id")["net_amount"].sum()
    has_machine = b2b_truth["segment"].eq("toimisto").to_numpy() & (start >= 0) & (rng(16).random(len(b2b)) < 0.6)
    machine_spells = pd.DataFrame({"customer_id": b2b["customer_id"].to_numpy()[has_machine],
                                   "start": start[has_machine], "end": np.minimum(end, N_DAYS - 1)[has_machine]})
    costly_ids = b2b["customer_id"].to_numpy()[b2b_truth["costly"].to_numpy()]
    costs = sales.service_costs(rng(17), orders, net, activities_days, costly_ids, machine_spells)

    # --- digital: campaign members, web sessions, journeys, surveys ----------------------------
    customers = _customers_table(b2c, b2b, orders)
    seg_c = pd.Series(b2c_truth["segment"].to_numpy(), index=b2c["customer_id"])
    members = journeys.campaign_members(rng(18), campaigns, customers, seg_c, orders)
    b2c_active = customers[(customers["customer_type"] == "B2C") & (customers["status"] == "asiakas")]
    sessions = journeys.web_sessions(rng(19), orders, b2c_active, campaigns)
    touchpoints, surveys = journeys.touchpoints_and_surveys(rng(20), orders, customers, seg_c, members, activities)

    tables = {
        "customers": customers, "contacts": contacts, "staff": staff,
        "products": products, "orders": orders.drop(columns="day"), "order_lines": lines,
        "contracts": contracts, "web_sessions": sessions, "touchpoints": touchpoints, "surveys": surveys,
        "pipeline_stages": pipeline.pipeline_stages(), "opportunities": opps, "opportunity_history": hist,
        "opportunity_contacts": opp_contacts, "activities": activities,
        "care_models": pd.DataFrame(vocab.CARE_MODELS, columns=["portfolio", "contact_interval_days", "main_channel",
                                                                "owner_role", "activity_plan"]),
        "service_costs": costs, "campaigns": campaigns, "campaign_members": members,
    }
    tables = {t.name: tables[t.name][t.column_names].reset_index(drop=True) for t in TABLES}
    truth = _truth(b2c, b2c_truth, b2b, b2b_truth, start, end, care_truth)
    return World(tables, truth, seed, scale)


def _orders(rng, b2c, b2c_truth, b2b, b2b_truth, heads_c, heads_b, first, mach, products, campaigns, manager):
    """Assemble order heads of every kind into the orders and order_lines tables."""
    heads = pd.concat([heads_c.assign(kind="b2c"), heads_b.assign(kind="b2b"), first.assign(kind="b2b"),
                       mach.assign(kind="machine")], ignore_index=True)
    heads = heads.sort_values(["day", "customer_id", "kind"], kind="stable").reset_index(drop=True)
    n = len(heads)
    kind = heads["kind"].to_numpy()
    is_c = kind == "b2c"
    seg = heads["segment"].to_numpy()
    b2b_idx = pd.Series(np.arange(len(b2b)), index=b2b["customer_id"])
    bi = b2b_idx.reindex(heads["customer_id"]).to_numpy()
    bi_safe = np.where(np.isnan(bi), 0, bi).astype(int)
    recorded = np.where(is_c, None, b2b["portfolio"].to_numpy()[bi_safe])
    costly = ~is_c & b2b_truth["costly"].to_numpy()[bi_safe]

    # channel and system
    web_share = np.array([sales.B2C_WEB_SHARE.get(s, 0) for s in seg])
    web = is_c & ((rng.random(n) < web_share) | heads["is_subscription"].to_numpy() | heads["campaign"].to_numpy())
    big = ~is_c & (b2b["employees"].to_numpy()[bi_safe] >= 100)
    b2b_channel = np.where(big & (rng.random(n) < 0.7), "EDI",
                           pick(rng, ["portaali", "myyjä", "puhelin", "EDI"], n, [0.45, 0.3, 0.15, 0.1]))
    b2b_channel = np.where(kind == "machine", "myyjä", b2b_channel)
    channel = np.where(is_c, np.where(web, "verkkokauppa", "myymälä"), b2b_channel)
    system = np.where(channel == "verkkokauppa", "webshop", np.where(channel == "myymälä", "POS", "ERP"))
    staff = np.where(channel == "myyjä", manager[bi_safe], np.where(channel == "puhelin",
                                                                   pick(rng, ["S10", "S11", "S12"], n), None))
    staff = np.where(is_c, None, staff)
    # campaign
    camp = campaigns[campaigns["audience"] == "B2C"]
    day = heads["day"].to_numpy()
    day_to_camp = pd.Series(np.repeat(camp["campaign_id"].to_numpy(),
                                      ((camp["end_date"] - camp["start_date"]).dt.days + 1).to_numpy()),
                            index=np.concatenate([np.arange(a, b + 1) for a, b in zip(
                                (camp["start_date"] - to_date(0)).dt.days, (camp["end_date"] - to_date(0)).dt.days)]))
    campaign_id = np.where(heads["campaign"].to_numpy(), pd.Series(day).map(day_to_camp).to_numpy(), None)
    # discount
    port_disc = np.array([sales.PORTFOLIO_DISCOUNT.get(p, 0.0) for p in recorded])
    disc = np.where(is_c, np.where(heads["campaign"].to_numpy(), 20.0,
                                   np.where(heads["is_subscription"].to_numpy(), 10.0, 0.0)),
                    port_disc + np.where(costly, 32.0, 0.0))
    heads["discount_pct"] = disc
    # lines
    n_lines = np.where(is_c, 1 + rng.poisson([sales.B2C_EXTRA_LINES.get(s, 1.0) for s in seg]),
                       1 + rng.binomial(3, 0.4, n))
    n_lines = np.where(heads["is_subscription"].to_numpy(), 4, n_lines)
    n_lines = np.where(kind == "machine", 1, np.minimum(n_lines, 5))
    lc = sales.lines_for(rng, heads[is_c].reset_index(drop=True), sales.B2C_POOLS, n_lines[is_c], products, None)
    lc["head"] = np.flatnonzero(is_c)[lc["head"]]
    bmask = kind == "b2b"
    lb = sales.lines_for(rng, heads[bmask].reset_index(drop=True), sales.B2B_POOLS, n_lines[bmask], products,
                         heads["basket"].to_numpy()[bmask])
    lb["head"] = np.flatnonzero(bmask)[lb["head"]]
    mm = np.flatnonzero(kind == "machine")
    lm = pd.DataFrame({"head": mm, "line_no": 1, "product_id": heads["machine"].to_numpy()[mm],
                       "quantity": heads["machine_qty"].to_numpy()[mm].astype(int)})
    lines = pd.concat([lc, lb, lm], ignore_index=True).sort_values(["head", "line_no"], kind="stable")
    lines = sales.price_lines(lines.reset_index(drop=True), heads, products)
    net = np.bincount(lines["head"], weights=lines["net_amount"], minlength=n)

    # delivery
    region = np.where(is_c, None, b2b["region"].to_numpy()[bi_safe])
    method = np.where(channel == "myymälä", "nouto",
                      np.where(is_c, np.where(rng.random(n) < 0.8, "postipaketti", "kotiinkuljetus"),
                               np.where(np.isin(region, ["Pirkanmaa", "Uusimaa"]), "oma jakelu", "rahti")))
    free = np.where(is_c, heads["is_subscription"].to_numpy() | (net >= 40),
                    np.isin(recorded, ["A", "B"]) | (net >= 300) | costly)
    fee = np.where(method == "nouto", 0.0, np.where(free, 0.0, np.where(is_c, np.where(
        method == "kotiinkuljetus", 7.90, 4.90), 15.0)))
    late = (method != "nouto") & (rng.random(n) < 0.05)
    # planted: a bad experience (late delivery) some weeks before a customer leaves
    ci = pd.Series(np.arange(len(b2c)), index=b2c["customer_id"]).reindex(heads["customer_id"]).to_numpy()
    ci_safe = np.where(np.isnan(ci), 0, ci).astype(int)
    bad = is_c & b2c_truth["bad_experience"].to_numpy()[ci_safe]
    churn_c = b2c_truth["churn"].to_numpy()[ci_safe]
    cand = bad & (day <= churn_c - 20) & (method != "nouto")
    incident = pd.Series(np.where(cand, day, -1)).groupby(heads["customer_id"].to_numpy()).transform("max").to_numpy()
    late |= cand & (day == incident)
    u = rng.random(n)
    status = np.where(u < 0.02, "peruttu", np.where(u < 0.04, "palautettu", "toimitettu"))
    status = np.where(kind == "machine", "toimitettu", status)
    lines["returned_quantity"] = np.where(status[lines["head"]] == "palautettu", lines["quantity"], 0)
    order_id = ids("O", n, 6)
    orders = pd.DataFrame({
        "order_id": order_id, "customer_id": heads["customer_id"].to_numpy(), "order_date": to_date(day),
        "channel": channel, "source_system": system, "campaign_id": campaign_id,
        "is_subscription": heads["is_subscription"].to_numpy().astype(bool), "delivery_method": method,
        "delivery_fee": fee, "delivered_late": late, "status": status,
        "opportunity_id": heads["opportunity_id"].to_numpy() if "opportunity_id" in heads else None,
        "staff_id": staff, "day": day,
    })
    orders["opportunity_id"] = orders["opportunity_id"].where(orders["opportunity_id"].notna(), None)
    lines.insert(0, "order_id", order_id[lines["head"]])
    return orders, lines.drop(columns="head")


def _opportunity_activities(rng, opps, hist, opp_contacts) -> pd.DataFrame:
    """One sales activity for each stage an opportunity entered, by its owner, with a contact met."""
    h = hist[hist["stage"].isin(["liidi", "kontaktointi", "tarjous", "neuvottelu"])]
    owner = h["opportunity_id"].map(opps.set_index("opportunity_id")["owner_id"])
    customer = h["opportunity_id"].map(opps.set_index("opportunity_id")["customer_id"])
    first_contact = opp_contacts.drop_duplicates("opportunity_id").set_index("opportunity_id")["contact_id"]
    t_by_stage = {"liidi": {"puhelu": 1}, "kontaktointi": {"puhelu": 2, "sähköposti": 1},
                  "tarjous": {"sähköposti": 1, "tapaaminen": 1}, "neuvottelu": {"tapaaminen": 1, "käynti": 1}}
    t = sales._draw_from_pools(rng, t_by_stage, h["stage"].to_numpy())
    return pd.DataFrame({"customer_id": customer.to_numpy(), "staff_id": owner.to_numpy(), "activity_type": t,
                         "day": (h["entered_at"] - to_date(0)).dt.days.to_numpy(),
                         "opportunity_id": h["opportunity_id"].to_numpy(),
                         "contact_id": h["opportunity_id"].map(first_contact).to_numpy()})


def _customers_table(b2c, b2b, orders) -> pd.DataFrame:
    """All customers and prospects with the status the order history implies."""
    df = pd.concat([b2c, b2b], ignore_index=True)
    live = orders[orders["status"] != "peruttu"]
    last = live.groupby("customer_id")["day"].max()
    last_day = df["customer_id"].map(last)
    df["status"] = np.where(last_day.isna(), "prospekti", np.where(last_day >= N_DAYS - 365, "asiakas", "entinen"))
    df["signup_date"] = to_date(df["signup_day"].to_numpy())
    b2b_rows = df["customer_type"] == "B2B"
    df["acquisition_channel"] = df["acquisition_channel"].astype(object)
    rng = np.random.default_rng(len(df))
    df.loc[b2b_rows, "acquisition_channel"] = pick(rng, ["messut", "verkkosivu", "suosittelu", "kylmäsoitto",
                                                         "kampanja", "kumppani"], int(b2b_rows.sum()))
    for col in ("email", "phone"):
        if col not in df:
            df[col] = None
    df.loc[b2b_rows, "email"] = "info@" + people.ascii_fold(df.loc[b2b_rows, "customer_id"]) + ".example.fi"
    df.loc[b2b_rows, "phone"] = "03 " + df.loc[b2b_rows, "customer_id"].str[1:] + " 100"
    for col, dtype in (("employees", "Int64"), ("birth_year", "Int64"), ("household_size", "Int64")):
        df[col] = df[col].astype(dtype)
    df["marketing_consent"] = df["marketing_consent"].astype(bool)
    return df


def _truth(b2c, b2c_truth, b2b, b2b_truth, start, end, care_truth) -> pd.DataFrame:
    """The hidden truth per customer: latent segment, true portfolio, churn day and planted flags."""
    c = pd.DataFrame({"customer_id": b2c["customer_id"], "customer_type": "B2C", "segment": b2c_truth["segment"],
                      "true_portfolio": None, "churn_date": to_date(np.minimum(b2c_truth["churn"], 10 ** 5)),
                      "bad_experience": b2c_truth["bad_experience"], "costly": False, "won_back": b2c_truth["winback"]})
    b = pd.DataFrame({"customer_id": b2b["customer_id"], "customer_type": "B2B", "segment": b2b_truth["segment"],
                      "true_portfolio": b2b_truth["portfolio"],
                      "churn_date": pd.Series(to_date(np.clip(end, 0, 10 ** 5))).where(start >= 0),
                      "bad_experience": b2b_truth["bad_experience"], "costly": b2b_truth["costly"], "won_back": False})
    t = pd.concat([c, b], ignore_index=True)
    t["forgotten_a"] = t["customer_id"].map(care_truth.set_index("customer_id")["forgotten"]).fillna(False).astype(bool)
    return t


MESSY_EXPORT = "raw/asiakasrekisteri.csv"


class ForeignData(KitError):
    """The output folder holds data the generator did not make."""


def refuse_foreign_data(out: Path) -> None:
    """Raise :class:`ForeignData` if ``out`` holds tables that were not generated by ``crmkit data``."""
    tables = sorted(p.name for p in out.glob("*.csv") if p.stem in {t.name for t in TABLES}) if out.is_dir() else []
    if tables and data_info(out).source != GENERATED or tables and not (out / INFO_FILE).exists():
        raise ForeignData(f"{out} holds data the generator did not make ({', '.join(tables[:4])}"
                          f"{' …' if len(tables) > 4 else ''}; no {INFO_FILE} saying source = \"{GENERATED}\"). "
                          "Nothing was written: give `crmkit data --out` an empty or new folder.")


def shift_dates(tables: dict[str, pd.DataFrame], years: int) -> dict[str, pd.DataFrame]:
    """Every date and date-time of every table (and each birth year) moved ``years`` calendar years:
    the same world at another time, to prove that no lesson hard-codes a year."""
    out = {}
    for name, df in tables.items():
        df = df.copy()
        for col in TABLE_BY_NAME[name].columns:
            if col.type in ("date", "datetime"):
                df[col.name] = df[col.name] + pd.DateOffset(years=years)
            elif col.name == "birth_year":
                df[col.name] = df[col.name] + years
        out[name] = df
    return out


def write_world(out_dir: str | os.PathLike, seed: int = DEFAULT_SEED, scale: float = 1.0,
                shift_years: int = 0) -> World:
    """Generate the world and write it to `out_dir`: CSVs, crm.sqlite, the messy register export and
    ``crmkit-data.toml`` (source "generated").

    Files are written to a temporary folder first and moved into place only when all succeeded. A
    folder that holds other data (tables, but no ``crmkit-data.toml`` saying they were generated)
    is refused: the generator never replaces a company's or a teacher's own tables.
    """
    out = Path(out_dir)
    refuse_foreign_data(out)
    world = generate_world(seed, scale)
    if shift_years:
        world.tables = shift_dates(world.tables, shift_years)
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / f".tmp-{os.getpid()}"
    (tmp / "raw").mkdir(parents=True, exist_ok=True)
    for name, df in world.tables.items():
        write_table(df, tmp / f"{name}.csv")
    crmdb.write_sqlite(world.tables, tmp / "crm.sqlite")
    today = (pd.Timestamp(TODAY) + pd.DateOffset(years=shift_years)).strftime("%Y-%m-%d")
    moved = f" moved {shift_years:+d} years" if shift_years else ""
    write_info(tmp, DataInfo(source=GENERATED, today=today, currency="€", limits="world",
                             description=f"crmkit data --seed {seed} --scale {scale:g}{moved}",
                             company="Paahtimo Aurora Oy"))
    messy.write_messy_export(world.tables, tmp / MESSY_EXPORT, seed)
    for f in sorted(tmp.rglob("*")):
        if f.is_file():
            target = out / f.relative_to(tmp)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(f, target)
    for d in sorted(tmp.rglob("*"), reverse=True):
        d.rmdir()
    tmp.rmdir()
    return world
