"""The data world: regenerates byte for byte, fits its schema, and holds the planted structure."""

from __future__ import annotations

import filecmp
import sqlite3

import numpy as np
import pandas as pd
import planted as P
import pytest
from repo import DATA_DIR

from crmkit.course.world.crmdb import PARTIAL, crm_tables
from crmkit.course.world.dictionary import render_dictionary
from crmkit.course.world.generate import generate_world, write_world
from crmkit.runtime.checks import check_world
from crmkit.runtime.data import load_world
from crmkit.runtime.schema import TABLES


@pytest.fixture(scope="module")
def world():
    return generate_world()


@pytest.fixture(scope="module")
def tables(world):
    return world.tables


@pytest.fixture(scope="module")
def segment(world):
    return world.truth.set_index("customer_id")["segment"]


# --- reproducible and valid ------------------------------------------------------------------

def test_data_folder_regenerates_byte_for_byte(tmp_path):
    write_world(tmp_path)
    generated = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert generated, "the generator wrote nothing"
    for rel in generated:
        committed = DATA_DIR / rel
        assert committed.exists(), f"data/{rel} is generated but not committed: run `make data`"
        assert filecmp.cmp(committed, tmp_path / rel, shallow=False), f"data/{rel} differs from a fresh `crmkit data`"


def test_committed_data_passes_schema_checks():
    assert check_world(load_world()) == []


def test_data_folder_within_budget():
    size = sum(p.stat().st_size for p in DATA_DIR.rglob("*") if p.is_file())
    assert size <= 15 * 1000**2, f"data/ holds {size / 1e6:.1f} MB, over the 15 MB budget"


def test_schema_checks_find_every_kind_of_problem(tables):
    bad = {k: v.copy() for k, v in tables.items() if k in ("customers", "orders", "staff", "campaigns",
                                                            "opportunities")}
    bad["customers"] = pd.concat([bad["customers"], bad["customers"].iloc[[0]]])       # duplicate key
    bad["orders"].loc[0, "customer_id"] = "C99999"                                      # unknown reference
    bad["orders"].loc[1, "order_date"] = pd.Timestamp("2031-01-01")                     # date out of range
    bad["orders"].loc[2, "channel"] = "fax"                                             # value not allowed
    bad["staff"] = bad["staff"].drop(columns="role")                                    # missing column
    bad["orders"]["delivery_fee"] = bad["orders"]["delivery_fee"].astype(str)            # wrong dtype
    text = "\n".join(check_world(bad))
    for expected in ("customers: key ['customer_id'] is not unique", "orders.customer_id: 1 values not found",
                     "orders.order_date: 1 dates outside", "orders.channel: 1 values outside",
                     "staff: missing columns ['role']", "orders.delivery_fee: expected type float"):
        assert expected in text, f"{expected!r} not reported in:\n{text}"


def test_hidden_truth_stays_out_of_the_students_data():
    for t in TABLES:
        assert not {"segment", "true_portfolio", "churn_date", "costly"} & set(t.column_names)


def test_business_ids_have_valid_check_digits(tables):
    y = tables["customers"]["business_id"].dropna()
    assert len(y) > 100 and y.str.fullmatch(r"\d{7}-\d").all()
    digits = np.array([[int(ch) for ch in s[:7]] for s in y])
    r = (digits * [7, 9, 10, 5, 8, 4, 2]).sum(axis=1) % 11
    assert (r != 1).all()
    assert (np.where(r == 0, 0, 11 - r) == y.str[-1].astype(int).to_numpy()).all()


def test_vat_follows_the_rate_in_force_on_the_order_date(tables):
    lines = tables["order_lines"].merge(tables["orders"][["order_id", "order_date"]], on="order_id")
    lines = lines.merge(tables["products"][["product_id", "category"]], on="product_id")
    food = lines["category"].isin(["kahvipavut", "jauhettu", "kapselit", "tee"])
    assert (lines.loc[food, "vat_rate"] == 0.14).all()
    other = lines[~food]
    before = other["order_date"] < "2024-09-01"
    assert (other.loc[before, "vat_rate"] == 0.24).all() and (other.loc[~before, "vat_rate"] == 0.255).all()
    assert np.allclose(lines["vat_amount"], lines["net_amount"] * lines["vat_rate"], atol=0.006)
    assert np.allclose(lines["gross_amount"], lines["net_amount"] + lines["vat_amount"], atol=0.006)


def test_crm_sqlite_has_keys_indexes_and_the_same_rows():
    con = sqlite3.connect(DATA_DIR / "crm.sqlite")
    con.execute("PRAGMA foreign_keys = ON")
    assert con.execute("PRAGMA foreign_key_check").fetchall() == []
    for t in crm_tables():
        pk = [r[1] for r in con.execute(f'PRAGMA table_info("{t.name}")') if r[5] > 0]
        assert pk == list(t.key), f"{t.name}: primary key {pk}"
        csv = pd.read_csv(DATA_DIR / f"{t.name}.csv", dtype=str)
        expected = len(PARTIAL[t.name](csv)) if t.name in PARTIAL else len(csv)
        assert con.execute(f'SELECT COUNT(*) FROM "{t.name}"').fetchone()[0] == expected
    fks = con.execute("PRAGMA foreign_key_list(opportunities)").fetchall()
    assert {(r[2], r[3]) for r in fks} >= {("customers", "customer_id"), ("staff", "owner_id")}
    indexes = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert "ix_activities_customer_id" in indexes and "ix_orders_customer_id" in indexes
    with pytest.raises(sqlite3.IntegrityError):
        con.execute("INSERT INTO activities (activity_id, customer_id, staff_id, activity_type, activity_date, "
                    "duration_min, outcome, note) VALUES ('X', 'NOPE', 'S01', 'puhelu', '2025-01-01', 5, 'onnistui', '')")


def test_every_column_in_data_is_documented_in_data_md():
    text = (DATA_DIR / "DATA.md").read_text(encoding="utf-8")
    assert render_dictionary() in text, "data/DATA.md's dictionary is stale: run `crmkit data`"
    for csv in DATA_DIR.glob("*.csv"):
        header = pd.read_csv(csv, nrows=0).columns
        assert f"### `{csv.stem}`" in text, f"table {csv.stem} is not documented"
        section = text.split(f"### `{csv.stem}`", 1)[1].split("### `", 1)[0]
        for col in header:
            assert f"| `{col}` |" in section, f"{csv.name}: column {col} is not documented in DATA.md"


def test_generation_scales_with_scale():
    small, big = generate_world(scale=0.5).tables, generate_world(scale=2).tables
    for name in ("customers", "orders", "order_lines", "activities"):
        ratio = len(big[name]) / len(small[name])
        assert 3.0 < ratio < 5.0, f"{name}: {len(small[name])} rows at scale 0.5, {len(big[name])} at 2"
    assert check_world(big) == []


# --- planted structure (documented for teachers in course/opettaja-aineiston-avain.md) -------------------------------

def test_rfm_clustering_recovers_the_latent_b2c_segments(world):
    assert P.segment_ari(world.tables, world.truth) >= 0.5


def test_margin_concentrates_and_some_large_customers_lose_money(tables):
    p = P.customer_pnl(tables)
    gm = p["gross_margin"].sort_values(ascending=False)
    assert gm.iloc[: int(len(gm) * 0.2)].sum() / gm.sum() >= 0.60
    b2b = p[p.index.str.startswith("B")]
    large = b2b[b2b["revenue"] >= b2b["revenue"].quantile(0.8)]
    assert (large["profit"] < 0).sum() >= 3, "no large B2B customer is unprofitable after cost to serve"
    assert (large["gross_margin"] > 0).all(), "unprofitable only after cost to serve, not before"
    curve = P.whale_curve(p["profit"])
    assert curve.max() >= 1.05 and abs(curve.iloc[-1] - 1) < 1e-9, "the whale curve must rise above 100 % and come back"


def test_funnel_has_one_clear_drop_off_at_checkout(tables):
    s = tables["web_sessions"]
    rates = P.funnel_rates(s)
    assert rates.idxmin() == "cart→checkout"
    assert rates.sort_values().iloc[1] - rates.min() >= 0.10
    cart = s[s["added_to_cart"]]
    cell = cart.groupby(["delivery_option_shown", "device"])["started_checkout"].mean()
    assert cell.idxmin() == ("maksullinen", "mobiili")


def test_funnel_effects_of_reviews_campaign_prices_and_returning_visitors(tables):
    s = tables["web_sessions"]
    v = s[s["viewed_product"]]
    reviews = v.groupby("read_reviews")["added_to_cart"].mean()
    price = v.groupby("price_level")["added_to_cart"].mean()
    assert 0.05 <= reviews[True] - reviews[False] <= 0.20
    assert 0.03 <= price["kampanja"] - price["normaali"] <= 0.18
    c = s[s["started_checkout"]].groupby("returning_visitor")["purchased"].mean()
    assert c[True] - c[False] >= 0.04


def test_cohorts_decay_and_differ_by_segment_and_contract(tables, segment):
    assert P.cohort_retention(tables, 1) > P.cohort_retention(tables, 6) > P.cohort_retention(tables, 18)
    r12 = {s: P.cohort_retention(tables, 12, segment[segment == s].index)
           for s in ("harrastaja", "arkiostaja", "tarjousmetsastaja")}
    assert r12["harrastaja"] - r12["tarjousmetsastaja"] >= 0.2 and r12["arkiostaja"] > r12["tarjousmetsastaja"]
    b2b = tables["customers"].query("customer_type == 'B2B'")["customer_id"]
    contract = b2b.isin(tables["contracts"]["customer_id"])
    assert (P.cohort_retention(tables, 12, pd.Index(b2b[contract]))
            > P.cohort_retention(tables, 12, pd.Index(b2b[~contract])) + 0.05)


def test_some_customers_are_won_back(tables):
    o = P.live_orders(tables)
    c = o[o["customer_id"].str.startswith("C")].sort_values(["customer_id", "order_date"])
    gap = c.groupby("customer_id")["order_date"].diff().dt.days
    assert c.loc[gap > 365, "customer_id"].nunique() >= 15


def test_pipeline_conversion_and_win_rate(tables):
    reach = P.stage_reach(tables, "tarjous")
    assert reach.idxmax() == "suosittelu" and reach.idxmin() == "kylmäsoitto"
    wr = P.win_rates_by_roles(tables)
    by_roles = wr.groupby(wr["roles"] >= 3)["won"].mean()
    by_decider = wr.groupby("decider")["won"].mean()
    assert by_roles[True] - by_roles[False] >= 0.1 and by_decider[True] - by_decider[False] >= 0.08


def test_sales_cycle_is_longer_for_larger_customers(tables):
    o = tables["opportunities"].query("stage == 'tilaus'")
    size = o["customer_id"].map(tables["customers"].set_index("customer_id")["employees"])
    cycle = (o["close_date"] - o["created_date"]).dt.days
    med = cycle.groupby(pd.cut(size.astype(float), [0, 9, 49, 249, 1e9])).median()
    assert med.is_monotonic_increasing and med.iloc[-1] > 1.4 * med.iloc[0]


def test_care_models_a_visited_more_than_d_but_some_a_overdue(tables):
    c = tables["customers"].query("customer_type == 'B2B' and status == 'asiakas'")
    visits = tables["activities"].query("activity_type == 'käynti'").groupby("customer_id").size()
    per = visits.reindex(c["customer_id"]).fillna(0).groupby(c["portfolio"].to_numpy()).mean()
    assert per["A"] > 5 * per["D"]
    overdue, n_a = P.overdue_a_customers(tables)
    assert 3 <= overdue < n_a


def test_order_drop_precedes_churn(tables):
    o = P.live_orders(tables)
    former = tables["customers"].query("status == 'entinen'")["customer_id"]
    o = o[o["customer_id"].isin(former)]
    g = o.groupby("customer_id")["order_date"]
    first, last = g.transform("min"), g.transform("max")
    before_last = (last - o["order_date"]).dt.days
    span = (last - first).dt.days.groupby(o["customer_id"]).first()
    late = ((before_last <= 180) & (before_last > 0)).groupby(o["customer_id"]).sum() / 180
    early = (before_last > 180).groupby(o["customer_id"]).sum() / (span - 180)
    known = span >= 360
    assert known.sum() >= 30
    assert (late[known] < early[known]).mean() >= 0.65
    assert (late[known] / early[known]).median() <= 0.8


def test_touchpoint_nps_and_comment_keywords(tables):
    s = tables["surveys"]
    by_channel = s.groupby("channel")["nps"].mean()
    assert by_channel.idxmin() == "puhelin"
    by_tp = s[s["touchpoint"] != "reklamaatio"].groupby("touchpoint")["nps"].mean()
    assert by_tp.idxmin() in ("toimitus", "asiakaspalvelu") and by_tp["toimitus"] < by_tp["osto"] - 1
    late = s["comment"].str.contains("myöhässä", na=False)
    kind = s["comment"].str.contains("ystävällinen", case=False, na=False)
    assert s.loc[late, "nps"].mean() + 3 < s.loc[kind, "nps"].mean()


def test_late_delivery_lowers_repurchase_and_multichannel_goes_with_value(tables):
    o = P.live_orders(tables).sort_values(["customer_id", "order_date"])
    o["next_gap"] = (o.groupby("customer_id")["order_date"].shift(-1) - o["order_date"]).dt.days
    shipped = o[o["customer_id"].str.startswith("C") & (o["delivery_method"] != "nouto")
                & (o["order_date"] < "2025-06-30")]
    again = shipped["next_gap"].le(180).groupby(shipped["delivered_late"]).mean()
    assert again[False] - again[True] >= 0.05, f"buys again within 180 days: {again.to_dict()}"
    c = tables["customers"].query("customer_type == 'B2C' and status != 'prospekti'")
    channels = tables["touchpoints"].groupby("customer_id")["channel"].nunique().reindex(c["customer_id"]).fillna(0)
    revenue = o.groupby("customer_id")["net_amount"].sum().reindex(c["customer_id"]).fillna(0)
    assert revenue[channels.to_numpy() >= 4].median() > 2 * revenue[channels.to_numpy() <= 2].median()


def test_integration_gaps_between_crm_and_erp(tables):
    o, opp = tables["orders"], tables["opportunities"]
    won_without_order = ~opp.loc[opp["stage"] == "tilaus", "opportunity_id"].isin(o["opportunity_id"])
    assert won_without_order.sum() >= 3
    lines = tables["order_lines"]
    machine_orders = o[o["order_id"].isin(lines.loc[lines["product_id"].isin(["P022", "P023"]), "order_id"])]
    assert machine_orders["opportunity_id"].isna().sum() >= 3


def test_seasonality(tables):
    o = P.live_orders(tables)
    month = o["order_date"].dt.month
    b2c = o["customer_id"].str.startswith("C")
    monthly_b2c = o[b2c].groupby(month[b2c])["net_amount"].sum()
    assert monthly_b2c[12] > 1.3 * monthly_b2c.mean()
    ind = o["customer_id"].map(tables["customers"].set_index("customer_id")["industry_code"])
    office = ind.isin(["62010", "69201", "70220", "71121", "64190", "86210"])
    hotel = ind.isin(["55101", "56210", "56290"])
    per_month = lambda m: o[m].groupby(month[m]).size()  # noqa: E731
    assert per_month(office)[7] < 0.6 * per_month(office).mean()
    assert per_month(hotel)[7] > 1.3 * per_month(hotel).mean()


def test_imported_data_may_run_past_the_data_worlds_today(tables):
    from crmkit.runtime.importer import latest_date

    orders = tables["orders"].copy()
    orders.loc[0, "order_date"] = pd.Timestamp("2026-03-15")
    assert any("orders.order_date" in p for p in check_world({"orders": orders}))
    assert check_world({"orders": orders}, latest="2026-12-31") == []
    assert latest_date() >= pd.Timestamp.today().strftime("%Y-%m-%d")


def test_the_generator_never_replaces_other_data(tmp_path):
    """`crmkit data --out` into a folder that holds a company's tables refuses and writes nothing."""
    from crmkit.course.world.generate import ForeignData

    company = tmp_path / "yritys"
    company.mkdir()
    (company / "customers.csv").write_text("customer_id\nX1\n", encoding="utf-8")
    with pytest.raises(ForeignData, match="holds data the generator did not make"):
        write_world(company)
    assert sorted(p.name for p in company.iterdir()) == ["customers.csv"]
    assert (company / "customers.csv").read_text(encoding="utf-8") == "customer_id\nX1\n"


def test_business_limits_accept_what_real_sales_data_holds(tables):
    """The sample world's caps (50 lines an order, its VAT rates and categories, no date before 2010)
    are its own; a company's data is checked under the "business" limits."""
    lines = tables["order_lines"].head(3).copy()
    lines["line_no"], lines["quantity"], lines["vat_rate"] = [1100, 2, 3], [80995, 1, 1], [0.2, 0.2, 0.0]
    assert any("line_no" in p for p in check_world({"order_lines": lines}))
    assert check_world({"order_lines": lines}, limits="business") == []
    orders = tables["orders"].head(2).copy()
    orders.loc[orders.index[0], "order_date"] = pd.Timestamp("2009-12-01")
    assert any("order_date" in p for p in check_world({"orders": orders}))
    assert check_world({"orders": orders}, limits="business") == []
