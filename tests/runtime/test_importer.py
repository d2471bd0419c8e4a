"""crmkit.runtime.importer and `crmkit import`: Finnish Excel CSV exports onto the kit's schema."""

from __future__ import annotations

import argparse
import shutil
import stat
from pathlib import Path

import pandas as pd
import pytest

from crmkit.cli.commands import import_csv
from crmkit.runtime.checks import check_world
from crmkit.runtime.data import load_world
from crmkit.runtime.importer import ImportProblems, Problem, import_export, load_mapping, pseudonym, run_import
from crmkit.runtime.importer import mapping as mapping_mod
from crmkit.runtime.importer import problems as problems_mod
from crmkit.runtime.importer import pseudonymise as pseudonymise_mod
from crmkit.runtime.importer import values as values_mod
from crmkit.runtime.schema import TABLE_BY_NAME

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "import"
ROOT = Path(__file__).resolve().parents[2]
SALT = "test-salt-0123456789abcdef"

# personal identifiers in the fixtures that must never reach a pseudonymised output
PERSONAL_VALUES = ["Äijälä", "Sirpa", "Öhman", "Lindqvist", "Mäkinen", "Kärkkäinen", "esimerkki.fi",
                   "mokka.fi", "sade.fi", "123 4567", "1234567", "765 4321", "7654321", "111 2233", "1112233"]
COMPANIES = ["Kahvila Mokka Oy", "Toimisto Ässä Ab", "Ravintola Säde Oy"]


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.exists() else []


# ---------------------------------------------------------------------------------------------
# valid exports


def test_valid_cp1252_export_imports_and_passes_the_schema_checks(tmp_path):
    assert (FIX / "customers_valid.csv").read_bytes().count("ä".encode("cp1252")) > 0  # really cp1252
    out = tmp_path / "out"
    tables = import_export(FIX / "valid.toml", out, salt=SALT)
    assert set(tables) == {"customers", "staff"}
    assert _files(out) == ["crmkit-data.toml", "customers.csv", "staff.csv"]  # the folder says what it is
    assert check_world(load_world(out, ["customers", "staff"])) == []
    c = tables["customers"].set_index("customer_id")
    assert list(c["customer_type"]) == ["B2C", "B2C", "B2C", "B2B", "B2B", "B2B"]  # "kuluttaja" too
    assert c.loc["C0004", "estimated_potential"] == 12500.50  # "12 500,50" with a no-break space
    assert c.loc["C0005", "estimated_potential"] == 1234.5  # "1.234,5"
    assert c.loc["C0006", "estimated_potential"] == 800.0
    assert pd.isna(c.loc["C0001", "estimated_potential"])
    assert c.loc["C0002", "signup_date"] == pd.Timestamp("2024-02-01")  # "1.2.2024"
    assert list(c["marketing_consent"]) == [True, False, True, True, False, False]  # Kyllä/Ei/K/E
    assert c.loc["C0005", "employees"] == 250 and c.loc["C0004", "city"] == "Tampere"
    assert c.loc["C0002", "postcode"] == "00100"  # text, leading zero kept
    assert c.loc["C0004", "name"] == "Kahvila Mokka Oy"


def test_utf8_bom_export_gives_the_same_tables(tmp_path):
    assert (FIX / "customers_valid_utf8bom.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    a = import_export(FIX / "valid.toml", salt=SALT)
    b = import_export(FIX / "valid_utf8bom.toml", salt=SALT)
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name])


# ---------------------------------------------------------------------------------------------
# one fixture per failure: the problem names the file, the row, the column and the fix

FAILURES = [
    # mapping, file, row, source column, kit column, words in the message, words in the fix
    ("wrong_separator.toml", "customers_comma.csv", 1, None, None, "separated by ',' (comma)", "separator = ','"),
    ("bad_date.toml", "customers_bad_date.csv", 3, "Liittymispäivä", "customers.signup_date",
     "not a valid date", "dd.mm.yyyy"),
    ("bad_number.toml", "customers_bad_number.csv", 5, "Potentiaali (€)", "customers.estimated_potential",
     "not a number", "1 234,50"),
    ("missing_column.toml", "customers_missing_column.csv", 1, "Liittymispäivä", "customers.signup_date",
     "required column not found", "[customers.columns]"),
    ("duplicate_key.toml", "customers_duplicate.csv", 8, "Asiakasnumero", "customers.customer_id",
     "duplicate key", "only once"),
    ("unknown_staff.toml", "customers_valid.csv", 6, "Vastuumyyjä", "customers.account_manager_id",
     "unknown staff.staff_id", "staff_without_s02.csv"),
    ("unknown_customer.toml", "orders_unknown_customer.csv", 4, "Asiakasnumero", "orders.customer_id",
     "unknown customers.customer_id", "customers_valid.csv"),
]


@pytest.mark.parametrize("mapping,file,row,column,kit_column,message,fix", FAILURES,
                         ids=[f[0].removesuffix(".toml") for f in FAILURES])
def test_each_failure_is_located_and_writes_nothing(tmp_path, mapping, file, row, column, kit_column, message, fix):
    out = tmp_path / "out"
    salt_file = tmp_path / "salt"
    with pytest.raises(ImportProblems) as e:
        import_export(FIX / mapping, out, salt_file=salt_file)
    assert isinstance(e.value, ValueError)
    hits = [p for p in e.value.problems if p.file == file and p.row == row]
    assert hits, e.value.problems
    p = hits[0]
    assert message in p.message and fix in p.fix
    text = str(p)
    assert file in text and f"row {row}" in text and fix in text and "Fix:" in text
    if column:
        assert p.column == column and p.kit_column == kit_column
        assert f'column "{column}" ({kit_column})' in text
    assert file in str(e.value) and "nothing was written" in str(e.value)
    assert not out.exists() and _files(tmp_path) == []  # no output, no temporary folder, no salt file


def test_all_problems_are_collected_with_the_bad_values():
    with pytest.raises(ImportProblems) as e:
        import_export(FIX / "bad_date.toml", salt=SALT)
    assert [(p.row, p.value) for p in e.value.problems] == [(3, "31.02.2024"), (6, "2021/09/20")]
    with pytest.raises(ImportProblems) as e:
        import_export(FIX / "bad_number.toml", salt=SALT)
    assert [(p.row, p.column, p.value) for p in e.value.problems] == [
        (5, "Potentiaali (€)", "12 5OO,50"), (6, "Henkilöstö", "noin 250")]


def test_duplicate_key_names_both_rows():
    with pytest.raises(ImportProblems) as e:
        import_export(FIX / "duplicate_key.toml", salt=SALT)
    (p,) = e.value.problems
    assert p.value == "C0004" and "also on row 5" in p.message and "whole row is repeated" in p.message


def test_problems_are_capped_per_column(tmp_path):
    rows = ["Asiakasnumero;Nimi;Rooli;Alue"] + [f"S{i:02d};Nimi {i};myyjä;Uusimaa" for i in range(1, 31)]
    (tmp_path / "staff.csv").write_text("\n".join(rows), encoding="cp1252")
    (tmp_path / "m.toml").write_text('[staff]\nfile = "staff.csv"\n[staff.columns]\nstaff_id = "Asiakasnumero"\n'
                                     'name = "Nimi"\nrole = "Rooli"\nregion = "Alue"\n', encoding="utf-8")
    with pytest.raises(ImportProblems) as e:
        import_export(tmp_path / "m.toml", salt=SALT)
    probs = e.value.problems
    assert len(probs) == problems_mod.PER_COLUMN_CAP + 1
    assert all("not one of the allowed values" in p.message and p.column == "Rooli" for p in probs[:-1])
    assert probs[0].row == 2 and "20 more problems" in probs[-1].message


def test_capped_parse_errors_are_not_reported_again_as_empty_cells(tmp_path):
    lines = (FIX / "customers_valid.csv").read_text(encoding="cp1252").splitlines()
    rows = [lines[0]] + [lines[1].replace("C0001", f"C{i:04d}").replace("05.03.2023", "32.01.2023")
                         for i in range(1, 31)]
    (tmp_path / "c.csv").write_text("\r\n".join(rows), encoding="cp1252")
    text = (FIX / "duplicate_key.toml").read_text(encoding="utf-8").replace("customers_duplicate.csv", "c.csv")
    (tmp_path / "m.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ImportProblems) as e:
        import_export(tmp_path / "m.toml", salt=SALT)
    probs = e.value.problems
    assert [p.row for p in probs[:-1]] == list(range(2, 12))
    assert "20 more problems" in probs[-1].message and len(probs) == 11


def test_mapping_without_a_required_column_says_how_to_fix_it(tmp_path):
    text = (FIX / "valid.toml").read_text(encoding="utf-8").replace('signup_date = "Liittymispäivä"\n', "")
    (tmp_path / "m.toml").write_text(text.replace('file = "', f'file = "{FIX.as_posix()}/'), encoding="utf-8")
    with pytest.raises(ImportProblems) as e:
        load_mapping(tmp_path / "m.toml")
    (p,) = e.value.problems
    assert p.file == "m.toml" and p.kit_column == "customers.signup_date"
    assert "[customers.columns]" in p.fix and "[customers.constants]" in p.fix


def test_mapping_typos_are_reported(tmp_path):
    (tmp_path / "m.toml").write_text('[customer]\nfile = "a.csv"\n\n[staff]\nfile = "s.csv"\n[staff.colums]\n'
                                     '[staff.columns]\nstaff_id = "Id"\nnamee = "Nimi"\n'
                                     '[staff.values.region]\nx = "y"\n[staff.values.role]\n"Myyjä" = "myyjä"\n',
                                     encoding="utf-8")
    with pytest.raises(ImportProblems) as e:
        load_mapping(tmp_path / "m.toml")
    text = str(e.value)
    assert "did you mean 'customers'" in text and "did you mean 'columns'" in text
    assert "did you mean 'name'" in text and "required column staff.role" in text
    assert "maps 'Myyjä' to 'myyjä', which is not one of the allowed values" in text and "maps 'x'" not in text


def test_unreadable_rows_and_mojibake_headers(tmp_path):
    # a value with an unquoted separator gives a row with too many cells
    lines = (FIX / "customers_valid.csv").read_text(encoding="cp1252").splitlines()
    lines[2] = lines[2].replace("Mikko Öhman", "Mikko; Öhman")
    (tmp_path / "c.csv").write_text("\r\n".join(lines), encoding="cp1252")
    text = (FIX / "duplicate_key.toml").read_text(encoding="utf-8").replace("customers_duplicate.csv", "c.csv")
    (tmp_path / "m.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ImportProblems) as e:
        import_export(tmp_path / "m.toml", salt=SALT)
    (p,) = e.value.problems
    assert p.row == 3 and "23 cells but the header has 22" in p.message and "quotes" in p.fix
    # a UTF-8 file read as cp1252: the headers are garbled, and the fix says so
    shutil.copy(FIX / "customers_valid_utf8bom.csv", tmp_path / "c.csv")
    (tmp_path / "m.toml").write_text('encoding = "cp1252"\n' + text, encoding="utf-8")
    with pytest.raises(ImportProblems) as e:
        import_export(tmp_path / "m.toml", salt=SALT)
    assert any('encoding = "auto"' in p.fix and "UTF-8" in p.message for p in e.value.problems)
    (tmp_path / "c.csv").write_text((FIX / "customers_valid.csv").read_text(encoding="cp1252"), encoding="utf-8")
    with pytest.raises(ImportProblems) as e:  # UTF-8 without a BOM, forced to cp1252
        import_export(tmp_path / "m.toml", salt=SALT)
    assert any(p.column == "Henkilöstö" and "UTF-8 read as cp1252" in p.fix for p in e.value.problems)


# ---------------------------------------------------------------------------------------------
# parsing


@pytest.mark.parametrize("text,value", [("1 234,50", 1234.5), ("1\u00a0234,50", 1234.5), ("1.234,50", 1234.5),
                                        ("1234,5", 1234.5), ("-5,25", -5.25), ("12", 12.0), ("1 000 000", 1e6),
                                        ("99,90 €", 99.9), ("\u22123,5", -3.5)])
def test_decimal_comma_numbers(text, value):
    tm = mapping_mod.TableMapping("customers", Path("x.csv"))
    assert values_mod._parse_number(text, tm) == value


@pytest.mark.parametrize("text,words", [("12.5", "decimal point"), ("12 34,5", "not a number"),
                                        ("1,234.5", "not a number"), ("abc", "not a number")])
def test_bad_numbers(text, words):
    tm = mapping_mod.TableMapping("customers", Path("x.csv"))
    with pytest.raises(problems_mod.BadValue, match=words):
        values_mod._parse_number(text, tm)


def test_booleans_ints_and_dates():
    tm = mapping_mod.TableMapping("customers", Path("x.csv"))
    col = TABLE_BY_NAME["customers"].column
    for t, v in [("Kyllä", True), ("kyllä", True), ("K", True), ("1", True), ("Ei", False), ("e", False), ("0", False)]:
        assert values_mod.parse_text(t, col("marketing_consent"), tm) is v
    with pytest.raises(problems_mod.BadValue, match="yes/no"):
        values_mod.parse_text("ehkä", col("marketing_consent"), tm)
    assert values_mod.parse_text("1 200", col("employees"), tm) == 1200
    with pytest.raises(problems_mod.BadValue, match="whole number"):
        values_mod.parse_text("12,5", col("employees"), tm)
    assert values_mod.parse_text("05.03.2024", col("signup_date"), tm) == pd.Timestamp("2024-03-05")
    with pytest.raises(problems_mod.BadValue, match="Excel date serial"):
        values_mod.parse_text("45356", col("signup_date"), tm)
    tm2 = mapping_mod.TableMapping("touchpoints", Path("x.csv"))
    occurred = TABLE_BY_NAME["touchpoints"].column("occurred_at")
    assert values_mod.parse_text("05.03.2024 14:30", occurred, tm2) == pd.Timestamp("2024-03-05 14:30")


# ---------------------------------------------------------------------------------------------
# pseudonymisation


def test_pseudonyms_are_deterministic_and_depend_on_the_salt():
    assert pseudonym("Sirpa Äijälä", "name", "a" * 20) == pseudonym("sirpa  äijälä ", "name", "a" * 20)
    assert pseudonym("Sirpa Äijälä", "name", "a" * 20) != pseudonym("Sirpa Äijälä", "name", "b" * 20)
    assert pseudonym("040 123 4567", "phone", SALT) == pseudonym("+358 40 1234567", "phone", SALT)
    assert pseudonym("Matti@X.fi", "email", SALT) == pseudonym("matti@x.fi", "email", SALT)
    assert pseudonym("x@y.fi", "email", SALT).startswith("email_") and pseudonym("x@y.fi", "email", SALT).endswith(
        "@example.invalid")
    assert pseudonym("Sirpa", "name", SALT).startswith("hlö_") and pseudonym("040", "phone", SALT).startswith("puh_")


def test_import_is_deterministic_with_a_salt_and_differs_between_salts():
    a = import_export(FIX / "valid.toml", salt=SALT)["customers"]
    b = import_export(FIX / "valid.toml", salt=SALT)["customers"]
    c = import_export(FIX / "valid.toml", salt="another-salt-9876543210")["customers"]
    pd.testing.assert_frame_equal(a, b)
    b2c = a["customer_type"] == "B2C"
    assert (a.loc[b2c, "name"] != c.loc[b2c, "name"]).all()
    assert (a["email"].dropna() != c["email"].dropna()).all()
    assert a.loc[b2c, "name"].str.match(r"^hlö_[0-9a-f]{12}$").all()


def test_no_personal_identifier_reaches_the_output_files(tmp_path):
    out = tmp_path / "out"
    import_export(FIX / "valid.toml", out, salt=SALT)
    text = "".join(p.read_text(encoding="utf-8") for p in out.glob("*.csv"))
    digits = text.replace(" ", "").replace("-", "")
    for v in PERSONAL_VALUES:
        assert v not in text and v.replace(" ", "") not in digits, v
    for company in COMPANIES:  # B2B company names are not personal data and stay
        assert company in text


def test_no_pseudonymise_keeps_the_identifiers(tmp_path):
    out = tmp_path / "out"
    tables = import_export(FIX / "valid.toml", out, pseudonymise=False)
    c = tables["customers"].set_index("customer_id")
    assert c.loc["C0001", "name"] == "Äijälä Sirpa" and c.loc["C0001", "phone"] == "040 123 4567"
    assert "sirpa.aijala@esimerkki.fi" in (out / "customers.csv").read_text(encoding="utf-8")
    assert _files(tmp_path) == ["out", "out/crmkit-data.toml", "out/customers.csv", "out/staff.csv"]  # no salt file needed


def test_default_salt_file_is_created_next_to_the_mapping_and_reused(tmp_path):
    for f in ("valid.toml", "customers_valid.csv", "staff.csv"):
        shutil.copy(FIX / f, tmp_path / f)
    r1 = run_import(tmp_path / "valid.toml")
    salt = tmp_path / pseudonymise_mod.SALT_FILE_NAME
    assert r1.salt_file == salt and salt.exists()
    assert stat.S_IMODE(salt.stat().st_mode) == 0o600
    assert any("created a new salt file" in n and "version control" in n for n in r1.notes)
    r2 = run_import(tmp_path / "valid.toml")
    assert not any("created" in n for n in r2.notes)
    pd.testing.assert_frame_equal(r1.tables["customers"], r2.tables["customers"])


def test_foreign_keys_are_checked_against_a_reference_folder(tmp_path):
    from crmkit.runtime.data import write_table

    ref = tmp_path / "ref"
    ref.mkdir()
    write_table(pd.DataFrame({"staff_id": ["S01"], "name": ["x"], "role": ["sisämyyjä"], "region": ["Uusimaa"]}),
                ref / "staff.csv")
    text = (FIX / "duplicate_key.toml").read_text(encoding="utf-8").replace("customers_duplicate.csv", "c.csv")
    shutil.copy(FIX / "customers_valid.csv", tmp_path / "c.csv")
    (tmp_path / "m.toml").write_text(text, encoding="utf-8")
    notes = run_import(tmp_path / "m.toml", salt=SALT).notes
    assert any("account_manager_id not checked" in n for n in notes)
    (tmp_path / "m.toml").write_text('reference_folder = "ref"\n' + text, encoding="utf-8")
    with pytest.raises(ImportProblems) as e:
        import_export(tmp_path / "m.toml", salt=SALT)
    (p,) = e.value.problems
    assert (p.row, p.column, p.value) == (6, "Vastuumyyjä", "S02") and "staff.csv in" in p.message


def test_salt_file_inside_the_output_folder_is_refused(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(ImportProblems, match="inside the output folder"):
        import_export(FIX / "valid.toml", out, salt_file=out / "salt")
    assert _files(tmp_path) == []


# ---------------------------------------------------------------------------------------------
# atomic output


def test_existing_output_folder_keeps_unrelated_files_and_tables_need_force(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(ImportProblems):
        import_export(FIX / "bad_date.toml", out, salt=SALT)
    assert _files(out) == ["notes.txt"]
    import_export(FIX / "valid.toml", out, salt=SALT)
    assert _files(out) == ["crmkit-data.toml", "customers.csv", "notes.txt", "staff.csv"]
    before = (out / "customers.csv").read_bytes()
    with pytest.raises(ImportProblems) as e:
        import_export(FIX / "valid.toml", out, salt="another-salt-9876543210")
    assert "already exists" in str(e.value) and "--force" in str(e.value)
    assert (out / "customers.csv").read_bytes() == before
    import_export(FIX / "valid.toml", out, salt="another-salt-9876543210", force=True)
    assert (out / "customers.csv").read_bytes() != before
    assert _files(out) == ["crmkit-data.toml", "customers.csv", "notes.txt", "staff.csv"]
    assert _files(tmp_path) == ["out", "out/crmkit-data.toml", "out/customers.csv", "out/notes.txt", "out/staff.csv"]  # no temp folder


def test_problem_dataclass_fields():
    p = Problem("a.csv", "is not a number", "write 1,5", row=4, column="Hinta", kit_column="products.list_price",
                value="x")
    assert str(p) == 'a.csv, row 4, column "Hinta" (products.list_price): value \'x\' is not a number. Fix: write 1,5'


# ---------------------------------------------------------------------------------------------
# command line


def _cli(argv):
    parser = argparse.ArgumentParser(prog="crmkit import")
    import_csv.add_arguments(parser)
    return import_csv.run(parser.parse_args(argv))


def test_cli_prints_every_problem_and_exits_2(tmp_path, capsys):
    out = tmp_path / "out"
    assert _cli([str(FIX / "bad_date.toml"), "--out", str(out), "--salt-file", str(tmp_path / "salt")]) == 2
    text = capsys.readouterr().err  # problems are errors: stderr
    assert "Import failed: 2 problems" in text and "Nothing was written" in text
    for row in ("row 3", "row 6"):
        assert f'customers_bad_date.csv, {row}, column "Liittymispäivä" (customers.signup_date)' in text
    assert "'31.02.2024'" in text and "'2021/09/20'" in text and text.count("fix:") == 2
    assert _files(tmp_path) == []


def test_cli_imports_checks_and_respects_no_pseudonymise(tmp_path, capsys):
    assert _cli([str(FIX / "valid.toml")]) == 0  # check only
    assert "fits the kit's schema" in capsys.readouterr().out and _files(tmp_path) == []
    out = tmp_path / "out"
    assert _cli([str(FIX / "valid.toml"), "--out", str(out), "--salt-file", str(tmp_path / "salt")]) == 0
    captured = capsys.readouterr()
    assert "customers (6 rows)" in captured.out and "pseudonymised" in captured.out
    assert "created a new salt file" in captured.err
    assert "Äijälä" not in (out / "customers.csv").read_text(encoding="utf-8")
    assert _cli([str(FIX / "valid.toml"), "--out", str(out), "--no-pseudonymise", "--force"]) == 0
    assert "Äijälä" in (out / "customers.csv").read_text(encoding="utf-8")
    with pytest.raises(SystemExit):  # a salt and no pseudonymisation contradict each other
        _cli([str(FIX / "valid.toml"), "--salt-file", "x", "--no-pseudonymise"])


def test_cli_through_the_dispatcher(tmp_path, monkeypatch, capsys):
    from crmkit.cli import main
    from crmkit.engine.jupyter_env import jupyter_state_env

    for k, v in jupyter_state_env(tmp_path / "jupyter").items():
        monkeypatch.setenv(k, v)
    assert main(["import", str(FIX / "unknown_customer.toml")]) == 2
    assert "orders_unknown_customer.csv, row 4" in capsys.readouterr().err
    assert main(["import", str(tmp_path / "nope.toml")]) == 2
    assert "not found" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------
# the committed mappings

REGISTER_HEADERS = ("Asiakasnumero;Asiakastyyppi;Nimi;Y-tunnus;Toimialakoodi;Toimiala;Henkilöstö;Kokoluokka;Kunta;"
                    "Postinumero;Maakunta;Syntymävuosi;Talouden koko;Liittymispäivä;Hankintakanava;Vastuumyyjä;"
                    "Salkku;Potentiaali (€);Markkinointilupa;Sähköposti;Puhelin;Tila").split(";")


def test_example_mapping_is_valid():
    m = load_mapping(ROOT / "data" / "import" / "example_mapping.toml")
    assert {"customers", "staff", "orders"} <= set(m.tables)


def test_register_mapping_covers_every_header_of_the_messy_export():
    m = load_mapping(ROOT / "data" / "import" / "asiakasrekisteri.toml")
    tm = m.tables["customers"]
    assert tm.file.resolve() == (ROOT / "data" / "raw" / "asiakasrekisteri.csv").resolve()
    assert sorted(tm.columns.values()) == sorted(REGISTER_HEADERS)
    assert set(tm.columns) == set(TABLE_BY_NAME["customers"].column_names)


def test_messy_register_import_fails_with_a_list_of_problems(tmp_path):
    mapping = ROOT / "data" / "import" / "asiakasrekisteri.toml"
    if not (ROOT / "data" / "raw" / "asiakasrekisteri.csv").exists():
        pytest.skip("data/raw/asiakasrekisteri.csv is not generated yet")
    out = tmp_path / "out"
    salt_existed = (mapping.parent / pseudonymise_mod.SALT_FILE_NAME).exists()
    with pytest.raises(ImportProblems) as e:
        import_export(mapping, out, salt=SALT)
    assert len(e.value.problems) >= 3
    assert all(p.fix for p in e.value.problems)
    assert any(p.row and p.column for p in e.value.problems)
    assert any("duplicate key" in p.message for p in e.value.problems)
    assert not out.exists() and (mapping.parent / pseudonymise_mod.SALT_FILE_NAME).exists() == salt_existed
