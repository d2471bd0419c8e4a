"""Reading the data folder: optional tables a company's data may lack."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
from repo import ROOT

from crmkit.runtime.data import (
    MissingTable,
    empty_table,
    read_optional_table,
    read_table,
)


@pytest.fixture
def company_folder(tmp_path):
    """A data folder with the sales tables only, as a flat import leaves it."""
    for name in ("customers", "orders", "order_lines", "products"):
        shutil.copy(ROOT / "data" / f"{name}.csv", tmp_path)
    return tmp_path


def test_a_missing_optional_table_is_said_once_and_comes_back_empty(company_folder, capsys):
    costs = read_optional_table("service_costs", company_folder, "Palvelukustannukset ovat nolla.")
    assert capsys.readouterr().out == "Huom: aineistossa ei ole taulua service_costs. Palvelukustannukset ovat nolla.\n"
    assert costs.empty
    assert list(costs.columns) == list(read_table("service_costs").columns)
    assert costs["amount"].sum() == 0
    assert pd.api.types.is_datetime64_any_dtype(costs["incurred_on"])


def test_a_present_optional_table_is_read_quietly(capsys):
    costs = read_optional_table("service_costs", None, "ei pitäisi näkyä")
    assert capsys.readouterr().out == ""
    assert len(costs) > 0


def test_required_tables_still_fail_with_the_finnish_message(company_folder):
    with pytest.raises(MissingTable, match="Taulua 'surveys' ei ole"):
        read_table("surveys", company_folder)


def test_empty_table_has_the_same_types_as_a_read_one():
    for name in ("contracts", "surveys", "service_costs"):
        assert empty_table(name).dtypes.to_dict() == read_table(name).dtypes.to_dict(), name
