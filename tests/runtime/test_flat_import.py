"""A company's flat sales export (one row per invoice line) becomes the kit's tables, every odd case
handled by a stated rule and counted (tests/fixtures/flat/make_flat_export.py makes the export)."""

from __future__ import annotations

import sys

import pandas as pd
import pytest

from crmkit.runtime.checks import check_world
from crmkit.runtime.data import data_info, data_today, load_world, say_assumptions
from crmkit.runtime.importer import ImportProblems, run_import
from repo import ROOT

sys.path.insert(0, str(ROOT / "tests" / "fixtures" / "flat"))
import make_flat_export  # noqa: E402


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    folder = tmp_path_factory.mktemp("flat")
    mapping = make_flat_export.write(folder, rows=6000)
    result = run_import(mapping, folder / "out", salt="testisuola-1234567890")
    return folder, result


def test_the_export_becomes_customers_orders_lines_and_products(imported):
    folder, result = imported
    assert sorted(result.tables) == ["customers", "order_lines", "orders", "products"]
    world = load_world(folder / "out", list(result.tables))
    assert check_world(world, limits="business") == []
    lines, orders = world["order_lines"], world["orders"]
    # what the sample world's limits would have refused, kept: long invoices, big quantities, 2010 dates
    assert lines["line_no"].max() > 50 and lines["quantity"].max() > 10_000
    assert orders["order_date"].min() < pd.Timestamp("2011-01-01")
    assert set(orders["order_id"]) == set(lines["order_id"]) and set(orders["customer_id"]) <= set(world["customers"]["customer_id"])
    # cancellations come back as returns on the purchases they cancel
    assert lines["returned_quantity"].sum() > 0 and (lines["returned_quantity"] <= lines["quantity"]).all()
    assert "palautettu" in set(orders["status"]) and orders["delivery_fee"].sum() > 0
    assert not any(str(o).startswith("C") for o in orders["order_id"])


def test_every_rule_is_counted_and_nothing_is_dropped_silently(imported):
    _, result = imported
    text = "\n".join(result.notes)
    for rule in ("no customer: left out", "service lines", "delivery charges", "adjustments",
                 "cancellations matched", "cancellations with no earlier purchase", "sales lines imported"):
        assert rule in text, rule
    rows = [int(n.split(": ")[-1].split(" rows")[0].replace(" ", "")) for n in result.notes if " rows (" in n
            and "purchases cancelled" not in n]
    read = int(result.notes[0].split(": ")[1].split(" rows")[0].replace(" ", ""))
    assert sum(rows) == read  # every row read is in exactly one rule's line


def test_the_folder_says_its_currency_and_its_today(imported):
    folder, result = imported
    info = data_info(folder / "out")
    assert info.currency == "£" and info.limits == "business" and info.source == "import"
    assert info.company == "Tukkukauppa Oy" and data_info().company == "Paahtimo Aurora Oy"
    assert data_today(folder / "out") == result.tables["orders"]["order_date"].max()


def test_the_folder_says_what_its_tables_assume(imported, tmp_path, capsys):
    folder, _ = imported
    said = data_info(folder / "out").assumptions
    assert any("60 %" in a and "myyntikate on 40 %" in a for a in said)  # costs are the rule's, not the company's
    assert not any("vierasasiakkaita" in a for a in said)                # this export skipped anonymous rows
    say_assumptions(folder / "out")
    assert capsys.readouterr().out.count("Huom (aineiston oletus):") == len(said)
    say_assumptions()                                                   # the course's own data assumes nothing
    assert capsys.readouterr().out == ""
    guests = make_flat_export.write(tmp_path, rows=1500)
    guests.write_text(guests.read_text(encoding="utf-8").replace('missing_customer = "skip"', 'missing_customer = "guest"'),
                      encoding="utf-8")
    run_import(guests, tmp_path / "out", salt="testisuola-1234567890")
    assert any("yksi asiakas laskua kohden" in a for a in data_info(tmp_path / "out").assumptions)


def test_an_unreadable_cell_is_named_with_its_row_and_nothing_is_written(tmp_path):
    mapping = make_flat_export.write(tmp_path, rows=300)
    csv = tmp_path / "myynti.csv"
    text = csv.read_text(encoding="utf-8").splitlines()
    text[4] = text[4].replace(text[4].split(",")[5], "kaksi", 1)  # a price that is not a number
    csv.write_text("\n".join(text) + "\n", encoding="utf-8")
    with pytest.raises(ImportProblems) as e:
        run_import(mapping, tmp_path / "out", salt="testisuola-1234567890")
    p = e.value.problems[0]
    assert (p.row, p.column, p.value) == (5, "UnitPrice", "kaksi") and "not a number" in p.message
    assert not (tmp_path / "out").exists()


def test_a_mapping_mistake_is_named(tmp_path):
    make_flat_export.write(tmp_path, rows=100)
    bad = tmp_path / "bad.toml"
    bad.write_text((tmp_path / "myynti.toml").read_text(encoding="utf-8").replace('invoice = "InvoiceNo"\n', "")
                   .replace('missing_customer = "skip"', 'missing_customer = "drop"'), encoding="utf-8")
    with pytest.raises(ImportProblems) as e:
        run_import(bad, None)
    text = str(e.value)
    assert "needs invoice" in text and "missing_customer = 'drop'" in text
