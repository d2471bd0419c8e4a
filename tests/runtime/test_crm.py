"""crmkit.runtime.crm: the small CRM API over crm.sqlite – each operation, each validation error,
atomicity (a failure leaves nothing half-written) and the master database left untouched."""

from __future__ import annotations

import hashlib

import pandas as pd
import pytest
from repo import DATA_DIR

from crmkit.runtime import schema
from crmkit.runtime.crm import (
    CRM,
    CRMError,
    CustomerCard,
    NotFoundError,
    ReadOnlyError,
    StageError,
    ValidationError,
    iso_date,
    working_copy,
)

MASTER = DATA_DIR / "crm.sqlite"


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def master_hash():
    return _sha(MASTER)


@pytest.fixture
def crm(tmp_path):
    c = CRM.working_copy(dest=tmp_path)
    yield c
    c.close()


def _count(crm, table, where="1=1", params=()):
    return crm.con.execute(f"SELECT COUNT(*) FROM {table} WHERE {where}", params).fetchone()[0]


def _open_opp(crm, stage):
    return crm.con.execute("SELECT opportunity_id, customer_id FROM opportunities WHERE stage = ? "
                           "ORDER BY opportunity_id LIMIT 1", (stage,)).fetchone()


def _snapshot(crm):
    return {t: crm.table(t) for t in ("activities", "opportunities", "opportunity_history", "campaigns",
                                      "campaign_members")}


def _assert_unchanged(crm, before):
    for t, df in before.items():
        pd.testing.assert_frame_equal(crm.table(t), df, obj=t)


# ------------------------------------------------------------------------------------------
# working copy and read-only master


def test_working_copy_is_a_fresh_copy(tmp_path, master_hash):
    path = working_copy(dest=tmp_path / "a")
    assert path.name == "crm.sqlite" and path.parent == tmp_path / "a"
    assert _sha(path) == master_hash
    assert working_copy() != working_copy()  # default: a new scratch folder every time
    with pytest.raises(CRMError, match="alkuperäinen"):
        working_copy(dest=MASTER)
    with pytest.raises(NotFoundError, match="DATA_DIR"):
        working_copy(folder=tmp_path / "no_data")


def test_scratch_working_copy_is_removed_when_the_process_ends(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    code = "from crmkit.runtime.crm import CRM; c = CRM.working_copy(); print(c.path); c.close()"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "TMPDIR": str(tmp_path)})
    path = Path(out.stdout.strip())
    assert path.parent.parent == tmp_path and path.name == "crm.sqlite"
    assert not path.parent.exists()  # 3.7 MB per run would otherwise pile up in the temp folder


def test_working_copy_from_another_data_folder(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "crm.sqlite").write_bytes(MASTER.read_bytes())
    with CRM.working_copy(folder, dest=tmp_path / "w") as c:
        assert c.path == tmp_path / "w" / "crm.sqlite" and not c.readonly


def test_master_opens_read_only(master_hash):
    with CRM(MASTER) as c:
        assert c.readonly
        assert len(c.search_customers(customer_type="B2B")) > 0
        with pytest.raises(ReadOnlyError, match="working_copy"):
            c.log_activity("B0001", "S01", "puhelu", "2025-12-31", 10, "onnistui", "x")
        with pytest.raises(ReadOnlyError):
            c.move_opportunity("OPP00001", "menetetty", "2025-12-31", "hinta")
    assert _sha(MASTER) == master_hash


def test_missing_database(tmp_path):
    with pytest.raises(NotFoundError, match="working_copy"):
        CRM(tmp_path / "nothing.sqlite")


# ------------------------------------------------------------------------------------------
# reading


def test_search_customers(crm):
    customers = crm.table("customers")
    hits = crm.search_customers(text="KAHVILA", customer_type="B2B", status="asiakas")
    expected = customers[(customers["customer_type"] == "B2B") & (customers["status"] == "asiakas")
                         & (customers["name"].str.casefold().str.contains("kahvila")
                            | customers["city"].str.casefold().str.contains("kahvila"))]
    assert list(hits["customer_id"]) == sorted(expected["customer_id"])
    mine = crm.search_customers(account_manager_id="S01", status=["asiakas", "entinen"], portfolio="A")
    assert set(mine["customer_id"]) == set(customers.loc[(customers["account_manager_id"] == "S01")
                                                         & customers["status"].isin(["asiakas", "entinen"])
                                                         & (customers["portfolio"] == "A"), "customer_id"])
    # Finnish letters fold correctly (SQLite's own LOWER() would not)
    name = customers.loc[customers["name"].str.contains("ä|ö", regex=True), "name"].iloc[0]
    assert name in set(crm.search_customers(text=name.upper())["name"])
    assert len(crm.search_customers()) == len(customers)


@pytest.mark.parametrize("kwargs, match", [
    (dict(customer_type="yritys"), "B2B"),
    (dict(status="aktiivinen"), "prospekti"),
    (dict(portfolio="E"), "'A'"),
    (dict(account_manager_id="S99"), "staff"),
])
def test_search_customers_errors(crm, kwargs, match):
    with pytest.raises(CRMError, match=match):
        crm.search_customers(**kwargs)


def test_customer_card(crm):
    cid = crm.con.execute("SELECT customer_id FROM opportunities WHERE stage = 'liidi' LIMIT 1").fetchone()[0]
    card = crm.customer_card(cid)
    assert isinstance(card, CustomerCard) and card.customer_id == cid
    assert set(card.contacts["customer_id"]) == {cid}
    assert len(card.contacts) == _count(crm, "contacts", "customer_id = ?", (cid,))
    assert len(card.contracts) == _count(crm, "contracts", "customer_id = ?", (cid,))
    assert len(card.open_opportunities) == _count(crm, "opportunities", "customer_id = ? AND stage IN "
                                                  "('liidi','kontaktointi','tarjous','neuvottelu')", (cid,))
    assert len(card.open_opportunities) >= 1
    assert len(card.erp_orders) == _count(crm, "orders", "customer_id = ?", (cid,))
    acts = crm.table("activities").query("customer_id == @cid")
    assert card.last_activity == (acts["activity_date"].max() if len(acts) else None)
    if card.last_activity:
        assert card.days_since_activity == (pd.Timestamp(schema.TODAY) - pd.Timestamp(card.last_activity)).days
    html = card._repr_html_()
    assert "Asiakaskortti" in html and cid in html
    assert cid in card.summary() and cid in repr(card) and len(repr(card)) < 1000
    with pytest.raises(NotFoundError, match="search_customers"):
        crm.customer_card("B9999")


def test_card_overdue_follows_the_care_model(crm):
    cid, interval = crm.con.execute("SELECT c.customer_id, m.contact_interval_days FROM customers c JOIN care_models m "
                                    "ON m.portfolio = c.portfolio WHERE c.portfolio = 'A' LIMIT 1").fetchone()
    crm.log_activity(cid, "S01", "puhelu", schema.TODAY, 10, "onnistui", "Kuulumiset")
    card = crm.customer_card(cid)
    assert card.contact_interval_days == interval and card.days_since_activity == 0 and card.overdue is False


def test_card_widget(crm):
    w = crm.card_widget(["B0001", "B0002"])
    search, pick = w.children[0].children
    assert pick.value == "B0001" and "B0001" in w.children[1].value
    pick.value = "B0002"
    assert "B0002" in w.children[1].value
    search.value = "zzzz-ei-ketään"
    assert pick.options == ()


# ------------------------------------------------------------------------------------------
# log_activity


def test_log_activity(crm):
    cid, kid = crm.con.execute("SELECT customer_id, contact_id FROM contacts LIMIT 1").fetchone()
    before = _count(crm, "activities")
    last = crm.con.execute("SELECT MAX(activity_id) FROM activities").fetchone()[0]
    new = crm.log_activity(cid, "S01", "käynti", pd.Timestamp("2025-12-30"), duration_min=45,
                           outcome="jatkotoimenpide", note="  Vuosipalaveri  ", contact_id=kid)
    assert new == f"AKT{int(last[3:]) + 1:06d}"
    assert _count(crm, "activities") == before + 1
    row = crm.query("SELECT * FROM activities WHERE activity_id = ?", (new,)).iloc[0]
    assert (row["customer_id"], row["contact_id"], row["staff_id"], row["activity_type"], row["activity_date"],
            row["duration_min"], row["outcome"], row["note"]) == (cid, kid, "S01", "käynti", "2025-12-30", 45,
                                                                  "jatkotoimenpide", "Vuosipalaveri")
    assert pd.isna(row["opportunity_id"])


def test_log_activity_future_needs_permission(crm):
    with pytest.raises(ValidationError, match="tulevaisuudessa"):
        crm.log_activity("B0001", "S01", "puhelu", "2026-01-05", 10, "onnistui", "Soitto")
    assert crm.log_activity("B0001", "S01", "puhelu", "2026-01-05", 10, "onnistui", "Soitto", allow_future=True)


@pytest.mark.parametrize("change, error, match", [
    (dict(customer_id="B9999"), NotFoundError, "search_customers"),
    (dict(staff_id="S99"), NotFoundError, "staff"),
    (dict(activity_type="kahvittelu"), ValidationError, "käynti"),
    (dict(outcome="ok"), ValidationError, "onnistui"),
    (dict(activity_date="31.12.2025"), ValidationError, "VVVV-KK-PP"),
    (dict(activity_date="2009-05-01"), ValidationError, "ennen CRM:n aikaa"),
    (dict(duration_min=0), ValidationError, "1–480"),
    (dict(duration_min=30.5), ValidationError, "kokonaislukuna"),
    (dict(note="   "), ValidationError, "Muistiinpano puuttuu"),
    (dict(contact_id="K99999"), NotFoundError, "contacts"),
    (dict(contact_id="OTHER"), ValidationError, "kuuluu asiakkaalle"),
    (dict(opportunity_id="OPP99999"), NotFoundError, "Myyntimahdollisuutta"),
    (dict(opportunity_id="OTHER"), ValidationError, "on asiakkaan"),
])
def test_log_activity_errors_write_nothing(crm, change, error, match):
    other_contact = crm.con.execute("SELECT contact_id FROM contacts WHERE customer_id != 'B0001' LIMIT 1").fetchone()[0]
    other_opp = crm.con.execute("SELECT opportunity_id FROM opportunities WHERE customer_id != 'B0001' LIMIT 1").fetchone()[0]
    args = dict(customer_id="B0001", staff_id="S01", activity_type="puhelu", activity_date="2025-12-31",
                duration_min=10, outcome="onnistui", note="Soitto")
    args.update(change)
    if args.get("contact_id") == "OTHER":
        args["contact_id"] = other_contact
    if args.get("opportunity_id") == "OTHER":
        args["opportunity_id"] = other_opp
    before = _snapshot(crm)
    with pytest.raises(error, match=match):
        crm.log_activity(**args)
    _assert_unchanged(crm, before)


# ------------------------------------------------------------------------------------------
# opportunities


def test_create_opportunity(crm):
    new = crm.create_opportunity("B0001", "S10", 4800, "messut", "2025-12-31")
    opp = crm.query("SELECT * FROM opportunities WHERE opportunity_id = ?", (new,)).iloc[0]
    assert (opp["stage"], opp["amount"], opp["owner_id"], opp["created_date"]) == ("liidi", 4800.0, "S10", "2025-12-31")
    hist = crm.query("SELECT stage, entered_at FROM opportunity_history WHERE opportunity_id = ?", (new,))
    assert hist.values.tolist() == [["liidi", "2025-12-31"]]
    for kwargs, match in ((dict(lead_source="tuttu"), "messut"), (dict(amount=0), "yli 0"),
                          (dict(owner_id="S77"), "staff"), (dict(created_date="2026-02-01"), "tulevaisuudessa")):
        args = dict(customer_id="B0001", owner_id="S10", amount=4800, lead_source="messut", created_date="2025-12-31")
        args.update(kwargs)
        with pytest.raises(CRMError, match=match):
            crm.create_opportunity(**args)


def test_move_opportunity_step_by_step_to_won(crm):
    opp, _ = _open_opp(crm, "liidi")
    last = crm.con.execute("SELECT MAX(entered_at) FROM opportunity_history WHERE opportunity_id = ?",
                           (opp,)).fetchone()[0]
    for stage in ("kontaktointi", "tarjous", "neuvottelu", "tilaus"):
        crm.move_opportunity(opp, stage, schema.TODAY)
    row = crm.query("SELECT stage, close_date, lost_reason FROM opportunities WHERE opportunity_id = ?", (opp,)).iloc[0]
    assert row["stage"] == "tilaus" and row["close_date"] == schema.TODAY and pd.isna(row["lost_reason"])
    hist = crm.query("SELECT stage, entered_at FROM opportunity_history WHERE opportunity_id = ? "
                     "AND entered_at >= ? ORDER BY entered_at", (opp, last))
    assert {"kontaktointi", "tarjous", "neuvottelu", "tilaus"} <= set(hist["stage"])
    with pytest.raises(StageError, match="suljettu"):
        crm.move_opportunity(opp, "menetetty", schema.TODAY, "hinta")


def test_move_opportunity_to_lost_needs_a_reason(crm):
    opp, _ = _open_opp(crm, "liidi")
    before = _snapshot(crm)
    with pytest.raises(ValidationError, match="syy"):
        crm.move_opportunity(opp, "menetetty", schema.TODAY)
    _assert_unchanged(crm, before)
    crm.move_opportunity(opp, "menetetty", schema.TODAY, lost_reason=" hinta ")
    row = crm.query("SELECT stage, close_date, lost_reason FROM opportunities WHERE opportunity_id = ?", (opp,)).iloc[0]
    assert row.tolist() == ["menetetty", schema.TODAY, "hinta"]
    assert _count(crm, "opportunity_history", "opportunity_id = ? AND stage = 'menetetty'", (opp,)) == 1


@pytest.mark.parametrize("stage, new, kwargs, error, match", [
    ("liidi", "tarjous", {}, StageError, "hypätä"),
    ("liidi", "tilaus", {}, StageError, "kontaktointi"),
    ("kontaktointi", "liidi", {}, StageError, "taaksepäin"),
    ("liidi", "liidi", {}, StageError, "jo vaiheessa"),
    ("tilaus", "menetetty", dict(lost_reason="hinta"), StageError, "suljettu"),
    ("menetetty", "liidi", {}, StageError, "suljettu"),
    ("liidi", "voitettu", {}, ValidationError, "tilaus"),
    ("liidi", "kontaktointi", dict(lost_reason="hinta"), ValidationError, "vain, kun"),
    ("liidi", "kontaktointi", dict(date="2026-01-02"), ValidationError, "tulevaisuudessa"),
    ("liidi", "kontaktointi", dict(date="2023-01-01"), ValidationError, "edellistä vaihemuutosta"),
])
def test_move_opportunity_errors_write_nothing(crm, stage, new, kwargs, error, match):
    opp, _ = _open_opp(crm, stage)
    args = dict(date=schema.TODAY)
    args.update(kwargs)
    before = _snapshot(crm)
    with pytest.raises(error, match=match):
        crm.move_opportunity(opp, new, **args)
    _assert_unchanged(crm, before)


def test_move_unknown_opportunity(crm):
    with pytest.raises(NotFoundError, match="OPP00001"):
        crm.move_opportunity("OPP99999", "kontaktointi", schema.TODAY)


def test_move_is_atomic_when_the_history_insert_fails(crm):
    """The stage update runs first; a failing history insert must roll it back."""
    opp, _ = _open_opp(crm, "liidi")
    with crm.con:  # plant a conflicting history row (as a broken integration might)
        crm.con.execute("INSERT INTO opportunity_history VALUES (?, 'kontaktointi', '2025-12-31')", (opp,))
    before = _snapshot(crm)
    with pytest.raises(CRMError, match="mitään ei tallennettu"):
        crm.move_opportunity(opp, "kontaktointi", schema.TODAY)
    _assert_unchanged(crm, before)
    assert crm.query("SELECT stage FROM opportunities WHERE opportunity_id = ?", (opp,)).iloc[0, 0] == "liidi"


# ------------------------------------------------------------------------------------------
# campaigns


HORECA = ["56101", "56102", "56302"]


def _campaign(crm, audience="B2B", name="Horeca-kevät 2026"):
    return crm.create_campaign(name, audience, "sähköposti", "2026-03-02", "2026-03-31", "testi", 2500)


def test_create_campaign(crm):
    last = crm.con.execute("SELECT MAX(campaign_id) FROM campaigns").fetchone()[0]
    cmp = _campaign(crm)
    assert cmp == f"CMP{int(last[3:]) + 1:03d}"
    row = crm.query("SELECT * FROM campaigns WHERE campaign_id = ?", (cmp,)).iloc[0]
    assert (row["audience"], row["start_date"], row["end_date"], row["cost"]) == ("B2B", "2026-03-02", "2026-03-31", 2500.0)
    for kwargs, match in ((dict(audience="B2X"), "B2C"), (dict(channel="tiktok"), "sähköposti"),
                          (dict(end_date="2026-02-01"), "ennen kuin alkaa"), (dict(cost=-1), "vähintään 0"),
                          (dict(name="Horeca-kevät 2026"), "on jo olemassa"), (dict(name=" "), "nimi")):
        args = dict(name="Toinen", audience="B2B", channel="sähköposti", start_date="2026-03-02",
                    end_date="2026-03-31", target_segment="", cost=10)
        args.update(kwargs)
        with pytest.raises(ValidationError, match=match):
            crm.create_campaign(**args)


def test_b2b_target_list_uses_the_contact_persons_consent(crm):
    cmp = _campaign(crm)
    targets = crm.campaign_target_list(cmp, industry_codes=HORECA)
    customers, contacts = crm.table("customers"), crm.table("contacts")
    consenting = contacts[contacts["marketing_consent"] == 1]
    eligible = customers[(customers["customer_type"] == "B2B") & (customers["status"] == "asiakas")
                         & customers["industry_code"].isin(HORECA) & customers["customer_id"].isin(consenting["customer_id"])]
    assert set(targets["customer_id"]) == set(eligible["customer_id"]) and len(targets) > 0
    # the company's flag is not a person's consent: some companies with the flag are left out, some without it are in
    flag = customers.set_index("customer_id")["marketing_consent"]
    assert (flag.reindex(targets["customer_id"]) == 0).any()
    # the message goes to a consenting contact of that customer, the primary one when possible
    chosen = contacts.set_index("contact_id").loc[targets["contact_id"]]
    assert (chosen["customer_id"].to_numpy() == targets["customer_id"].to_numpy()).all()
    assert (chosen["marketing_consent"] == 1).all()
    members = crm.query("SELECT * FROM campaign_members WHERE campaign_id = ?", (cmp,))
    assert set(members["customer_id"]) == set(targets["customer_id"])
    assert (members["sent_at"] == "2026-03-02").all() and members[["opened", "clicked"]].sum().sum() == 0
    with pytest.raises(ValidationError, match="jo kohdelista"):
        crm.campaign_target_list(cmp, industry_codes=HORECA)


def test_b2c_target_list_uses_the_customers_consent(crm):
    cmp = _campaign(crm, "B2C", "Kevätkirje 2026")
    preview = crm.campaign_targets(cmp, status=["asiakas", "entinen"])
    assert _count(crm, "campaign_members", "campaign_id = ?", (cmp,)) == 0  # a preview writes nothing
    customers = crm.table("customers")
    expected = customers[(customers["customer_type"] == "B2C") & customers["status"].isin(["asiakas", "entinen"])
                         & (customers["marketing_consent"] == 1)]
    assert set(preview["customer_id"]) == set(expected["customer_id"]) and preview["contact_id"].isna().all()
    with pytest.raises(ValidationError, match="vain yritysasiakkaita"):
        crm.campaign_targets(cmp, industry_codes=HORECA)


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(campaign_id="CMP999"), NotFoundError, "create_campaign"),
    (dict(industry_codes=["00000"]), ValidationError, "Väljennä"),
    (dict(industry_codes=[]), ValidationError, "tyhjä lista"),
    (dict(status="aktiivinen"), ValidationError, "prospekti"),
])
def test_target_list_errors_write_nothing(crm, kwargs, error, match):
    cmp = _campaign(crm)
    args = dict(campaign_id=cmp, industry_codes=HORECA)
    args.update(kwargs)
    before = _snapshot(crm)
    with pytest.raises(error, match=match):
        crm.campaign_target_list(**args)
    _assert_unchanged(crm, before)


def test_target_list_is_atomic(crm):
    """A failure on the fifth member row leaves no member of the list behind."""
    cmp = _campaign(crm)
    with crm.con:
        crm.con.execute("CREATE TRIGGER boom BEFORE INSERT ON campaign_members WHEN (SELECT COUNT(*) FROM "
                        "campaign_members WHERE campaign_id = NEW.campaign_id) >= 4 BEGIN "
                        "SELECT RAISE(ABORT, 'keskeytetty'); END")
    before = _snapshot(crm)
    with pytest.raises(CRMError, match="keskeytetty"):
        crm.campaign_target_list(cmp, industry_codes=HORECA)
    _assert_unchanged(crm, before)
    assert _count(crm, "campaign_members", "campaign_id = ?", (cmp,)) == 0


# ------------------------------------------------------------------------------------------
# misc


def test_iso_date():
    assert iso_date("2025-12-31") == iso_date(pd.Timestamp("2025-12-31")) == "2025-12-31"
    with pytest.raises(ValidationError, match="VVVV-KK-PP"):
        iso_date("2025-13-01")


def test_the_master_database_is_untouched(master_hash):
    """Run last in this module: every test above worked on copies."""
    assert _sha(MASTER) == master_hash


def test_a_cell_run_twice_is_named_as_the_likely_cause_of_a_stage_error():
    crm = CRM.working_copy()
    opp = crm.query("SELECT opportunity_id FROM opportunities WHERE stage = 'liidi' LIMIT 1").iloc[0, 0]
    crm.move_opportunity(opp, "kontaktointi", crm.today)
    with pytest.raises(StageError, match="ajoit solun uudelleen"):
        crm.move_opportunity(opp, "kontaktointi", crm.today)


def test_the_card_shows_flags_as_words():
    html = CRM.working_copy().customer_card("B0001")._repr_html_()
    assert "<td>kyllä</td>" in html or "<td>ei</td>" in html
    assert "<td>1</td>" not in html and "<td>0</td>" not in html
