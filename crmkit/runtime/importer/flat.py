"""A flat transaction export (one row per invoice line) made into customers, orders, order lines
and products, each odd case handled by a stated rule and counted.

This is what a company usually sends: its sales system's invoice lines, e.g. invoice, date-time,
customer, product code and name, quantity, unit price (and country). The mapping file names the
columns and the rules in a ``[transactions]`` section (see ``data/import/README.md``):

* **cancellations** – an invoice whose number starts with ``cancellation_prefix`` (e.g. ``C``) takes
  back goods bought earlier: each of its lines is matched to the same customer's latest earlier
  purchase of the same product and recorded there as ``returned_quantity`` (at most what was
  bought); what cannot be matched is counted and left out;
* **rows without a customer** – ``missing_customer = "skip"`` (counted, left out) or ``"guest"`` (one
  anonymous B2C customer per invoice);
* **delivery charges** – lines whose product is in ``delivery_products`` become the order's
  ``delivery_fee``; lines in ``other_service_products`` (bank charges, manual adjustments …) are
  left out and counted;
* **adjustments** – a line that is not a cancellation but has a quantity below 1 or a price of 0 or
  below is left out and counted;
* money: ``unit_price`` is the price excluding VAT; ``vat_rate`` is one rate for every line; the
  unit cost is ``cost_share`` × the product's median price (an assumption the report states).

Every rule's rows, share of rows and amount go to the import's report; nothing is dropped
silently. The work is vectorised (pandas): linear in the rows.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from crmkit.runtime.importer.problems import ImportProblems, Problem
from crmkit.runtime.schema import TABLE_BY_NAME

FLAT_SECTION = "transactions"
#: the flat export's fields: kit name -> required?
FIELDS = {"invoice": True, "date": True, "customer": True, "product": True, "quantity": True, "unit_price": True,
          "product_name": False, "country": False}
_RULE_KEYS = {"cancellation_prefix", "missing_customer", "delivery_products", "other_service_products",
              "customer_type", "vat_rate", "cost_share", "channel", "source_system", "delivery_method",
              "product_category"}
_SECTION_KEYS = {"file", "columns", "rules", "encoding", "separator", "decimal", "datetime_format", "date_format"}


@dataclass
class FlatRules:
    """How the odd cases of a flat export are handled (see the module docstring)."""

    cancellation_prefix: str = "C"
    missing_customer: str = "skip"  # or "guest"
    delivery_products: tuple[str, ...] = ()
    other_service_products: tuple[str, ...] = ()
    customer_type: str = "B2B"
    vat_rate: float = 0.0
    cost_share: float = 0.6
    channel: str = "verkkokauppa"
    source_system: str = "ERP"
    delivery_method: str = "toimitus"
    product_category: str = "tuote"


@dataclass
class FlatMapping:
    """A parsed ``[transactions]`` section."""

    file: Path
    columns: dict[str, str]  # field -> header in the file
    rules: FlatRules = field(default_factory=FlatRules)
    encoding: str = "auto"
    separator: str = ","
    decimal: str = "."
    datetime_formats: tuple[str, ...] = ("%d.%m.%Y %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d")


@dataclass
class FlatReport:
    """What each rule did: (rule in words, rows, amount in the export's currency)."""

    rows_in: int = 0
    lines: list[tuple[str, int, float]] = field(default_factory=list)

    def add(self, rule: str, rows: int, amount: float) -> None:
        """Record one rule's count (rules that touched no row are still listed)."""
        self.lines.append((rule, int(rows), float(amount)))

    def notes(self, currency: str) -> list[str]:
        """The report as lines for the user (numbers in Finnish format)."""
        fi = lambda x, d=0: f"{x:,.{d}f}".replace(",", " ").replace(".", ",")  # noqa: E731
        out = [f"flat export: {fi(self.rows_in)} rows read"]
        for rule, rows, amount in self.lines:
            share = 100 * rows / self.rows_in if self.rows_in else 0
            out.append(f"  {rule}: {fi(rows)} rows ({fi(share, 1)} %), {fi(amount, 2)} {currency}")
        return out


def parse_section(spec: dict, base: Path, mfile: str, problems: list[Problem]) -> FlatMapping | None:
    """The ``[transactions]`` section checked: file, column map, rules (every mistake listed)."""
    sec = f"[{FLAT_SECTION}]"
    for k in spec:
        if k not in _SECTION_KEYS:
            problems.append(Problem(mfile, f"unknown key {k!r} in {sec}", f"use one of {sorted(_SECTION_KEYS)}"))
    file = spec.get("file")
    if not isinstance(file, str) or not file:
        problems.append(Problem(mfile, f"{sec} needs file = \"<the export's file name>\"",
                                'add e.g. file = "myynti.csv" (relative to the mapping file)'))
        return None
    columns = spec.get("columns", {})
    if not isinstance(columns, dict):
        columns = {}
    for name, required in FIELDS.items():
        if required and not isinstance(columns.get(name), str):
            problems.append(Problem(mfile, f"[{FLAT_SECTION}.columns] needs {name} = \"<header>\"",
                                    f"name the column that holds the {name.replace('_', ' ')}"))
    unknown = [k for k in columns if k not in FIELDS]
    for k in unknown:
        problems.append(Problem(mfile, f"[{FLAT_SECTION}.columns] {k!r} is not a field of a flat export",
                                f"use {', '.join(FIELDS)}"))
    rules_raw = spec.get("rules", {}) if isinstance(spec.get("rules", {}), dict) else {}
    for k in rules_raw:
        if k not in _RULE_KEYS:
            problems.append(Problem(mfile, f"[{FLAT_SECTION}.rules] {k!r} is not a rule", f"use {sorted(_RULE_KEYS)}"))
    rules = FlatRules(**{k: (tuple(v) if isinstance(v, list) else v) for k, v in rules_raw.items() if k in _RULE_KEYS})
    if rules.missing_customer not in ("skip", "guest"):
        problems.append(Problem(mfile, f"missing_customer = {rules.missing_customer!r}", 'use "skip" or "guest"'))
    if rules.customer_type not in ("B2B", "B2C"):
        problems.append(Problem(mfile, f"customer_type = {rules.customer_type!r}", 'use "B2B" or "B2C"'))
    if not (isinstance(rules.vat_rate, (int, float)) and 0 <= rules.vat_rate < 1):
        problems.append(Problem(mfile, f"vat_rate = {rules.vat_rate!r}", "a share, e.g. vat_rate = 0.2 for 20 %"))
    if not (isinstance(rules.cost_share, (int, float)) and 0 < rules.cost_share < 1):
        problems.append(Problem(mfile, f"cost_share = {rules.cost_share!r}",
                                "the unit cost as a share of the price, e.g. cost_share = 0.6"))
    formats = spec.get("datetime_format", spec.get("date_format"))
    formats = (formats,) if isinstance(formats, str) else tuple(formats or FlatMapping.datetime_formats)
    return FlatMapping(file=base / file, columns={k: v for k, v in columns.items() if k in FIELDS}, rules=rules,
                       encoding=spec.get("encoding", "auto"), separator=spec.get("separator", ","),
                       decimal=spec.get("decimal", "."), datetime_formats=formats)


def _encoding(path: Path, wanted: str) -> str:
    if wanted != "auto":
        return wanted
    with open(path, "rb") as f:
        head = f.read(1 << 20)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as e:
        return "utf-8" if e.start > len(head) - 4 else "cp1252"  # a character cut at the block's end


def read_export(fm: FlatMapping) -> tuple[pd.DataFrame, list[Problem]]:
    """The export's rows with the kit's field names and types; problems name file, row and column."""
    name = fm.file.name
    if not fm.file.is_file():
        return pd.DataFrame(), [Problem(name, f"file {str(fm.file)!r} not found", "check file = in the mapping")]
    try:
        raw = pd.read_csv(fm.file, sep=fm.separator, dtype=str, keep_default_na=False, encoding=_encoding(fm.file, fm.encoding))
    except (UnicodeDecodeError, pd.errors.ParserError) as e:
        return pd.DataFrame(), [Problem(name, f"the file cannot be read as CSV: {e}",
                                        "check separator and encoding in the mapping")]
    missing = [h for h in fm.columns.values() if h not in raw.columns]
    if missing:
        return pd.DataFrame(), [Problem(name, f"no column {h!r} in the header", f"the header has {list(raw.columns)}",
                                        row=1, column=h) for h in missing]
    text_fields = ("invoice", "customer", "product")  # keys: stray spaces would split a customer or product
    df = pd.DataFrame({f: raw[h].str.strip() if f in text_fields else raw[h] for f, h in fm.columns.items()})
    problems = []
    row = pd.Series(np.arange(2, len(df) + 2), index=df.index)  # the header is row 1
    for f in ("quantity", "unit_price"):
        cells = df[f]
        values = pd.to_numeric(cells, errors="coerce") if fm.decimal == "." else pd.Series(np.nan, index=df.index)
        todo = values.isna() & (cells != "")
        if todo.any():  # the slow path only for cells the fast parse did not read: spaces, a decimal comma
            text = cells[todo].str.replace("\u00a0", "", regex=False).str.replace(" ", "", regex=False)
            if fm.decimal == ",":
                text = text.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
            values[todo] = pd.to_numeric(text, errors="coerce")
        df[f] = values
        _bad_cells(values.isna() & (cells != ""), raw[fm.columns[f]], row, name, fm.columns[f], f,
                   "is not a number", f"check the {f.replace('_', ' ')} (decimal mark: decimal = \"{fm.decimal}\")",
                   problems)
    parsed = pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns]")
    for fmt in fm.datetime_formats:
        todo = parsed.isna() & (df["date"] != "")
        if not todo.any():
            break
        parsed[todo] = pd.to_datetime(df.loc[todo, "date"], format=fmt, errors="coerce")
    _bad_cells(parsed.isna() & (df["date"] != ""), raw[fm.columns["date"]], row, name, fm.columns["date"], "date",
               f"is not a date in the formats {list(fm.datetime_formats)}",
               'set datetime_format in [transactions] (e.g. "%m/%d/%Y %H:%M")', problems)
    for f in ("invoice", "date", "product", "quantity", "unit_price"):
        _bad_cells(raw[fm.columns[f]].str.strip() == "", raw[fm.columns[f]], row, name, fm.columns[f], f,
                   "is empty in a required column", "fill it in, or leave the row out", problems)
    df["date"] = parsed
    df["row"] = row
    return df, problems


def _bad_cells(mask, values, row, file, column, field_, message, fix, problems, cap: int = 10) -> None:
    n = int(mask.sum())
    for i in np.flatnonzero(mask.to_numpy())[:cap]:
        problems.append(Problem(file, message, fix, row=int(row.iloc[i]), column=column, kit_column=f"transactions.{field_}",
                                value=str(values.iloc[i])))
    if n > cap:
        problems.append(Problem(file, f"{n - cap} more rows in this column have the same problem",
                                "fix the ones listed (they are usually of the same kind)", column=column))


def derive_tables(df: pd.DataFrame, rules: FlatRules, report: FlatReport) -> dict[str, pd.DataFrame]:
    """customers, orders, order_lines and products from the export's rows (see the module docstring)."""
    report.rows_in = len(df)
    amount = df["quantity"] * df["unit_price"]
    cancel = df["invoice"].str.startswith(rules.cancellation_prefix) if rules.cancellation_prefix else \
        pd.Series(False, index=df.index)
    no_customer = df["customer"] == ""
    guests: set = set()
    if rules.missing_customer == "guest":
        df.loc[no_customer, "customer"] = "GUEST-" + df.loc[no_customer, "invoice"]
        guests = set(df.loc[no_customer, "customer"])
    delivery = df["product"].isin(rules.delivery_products)
    service = df["product"].isin(rules.other_service_products)
    # every row gets exactly one kind, the first that applies (the report's lines add up to the rows read)
    kind = pd.Series(np.select(
        [no_customer & (rules.missing_customer == "skip"), service, delivery & cancel, delivery, cancel,
         (df["quantity"] < 1) | (df["unit_price"] <= 0)],
        ["no_customer", "service", "cancelled_delivery", "delivery", "cancellation", "adjustment"], "sale"),
        index=df.index)
    said = {"no_customer": "no customer: left out", "service": "service lines (other_service_products): left out",
            "cancelled_delivery": "cancelled delivery charges: left out",
            "delivery": "delivery charges (delivery_products): the order's delivery fee",
            "adjustment": "adjustments (quantity below 1 or price 0 or below, not a cancellation): left out"}
    for k, words in said.items():
        report.add(words, (kind == k).sum(), amount[kind == k].sum())
    if guests:
        report.add("no customer: an anonymous B2C guest per invoice (counted among the rows below)",
                   no_customer.sum(), amount[no_customer].sum())
    sales = df[kind == "sale"].copy()
    is_fee = kind == "delivery"
    fees = amount[is_fee].groupby(df.loc[is_fee, "invoice"]).sum()
    returns = df[kind == "cancellation"].copy()
    returns["quantity"] = returns["quantity"].abs()
    sales["line_key"] = np.arange(len(sales))
    sales["returned_quantity"] = _match_returns(sales, returns, report)

    # products: the most common name, the median price, the assumed cost
    names = sales.get("product_name")
    products = sales.groupby("product").agg(list_price=("unit_price", "median"))
    if names is not None:
        products["name"] = (sales.groupby(["product", "product_name"]).size().reset_index()
                            .sort_values(0, ascending=False).drop_duplicates("product").set_index("product")["product_name"])
    products["name"] = products.get("name", pd.Series(dtype=str)).fillna("").replace("", np.nan)
    products["name"] = products["name"].fillna(products.index.to_series())
    products = products.reset_index().rename(columns={"product": "product_id"})
    products["list_price"] = products["list_price"].round(4)
    products["unit_cost"] = (products["list_price"] * rules.cost_share).round(4)
    products = products.assign(category=rules.product_category, sold_to="both" if guests else rules.customer_type,
                               is_premium=False, vat_rate=float(rules.vat_rate))

    # orders and their lines
    sales["order_date"] = sales["date"].dt.normalize()
    heads = sales.groupby("invoice", sort=False).agg(customer_id=("customer", "first"), order_date=("order_date", "min"),
                                                    returned=("returned_quantity", "sum"))
    heads["delivery_fee"] = fees.reindex(heads.index).fillna(0.0).round(2)
    heads["status"] = np.where(heads["returned"] > 0, "palautettu", "toimitettu")
    orders = heads.drop(columns="returned").reset_index().rename(columns={"invoice": "order_id"})
    orders = orders.assign(channel=rules.channel, source_system=rules.source_system, campaign_id=pd.NA,
                           is_subscription=False, delivery_method=rules.delivery_method, delivered_late=False,
                           opportunity_id=pd.NA, staff_id=pd.NA)
    cost = sales["product"].map(products.set_index("product_id")["unit_cost"])
    net = (sales["quantity"] * sales["unit_price"]).round(2)
    lines = pd.DataFrame({
        "order_id": sales["invoice"], "line_no": sales.groupby("invoice").cumcount() + 1, "product_id": sales["product"],
        "quantity": sales["quantity"].astype("int64"), "unit_price": sales["unit_price"], "discount_pct": 0.0,
        "vat_rate": float(rules.vat_rate), "net_amount": net, "vat_amount": (net * rules.vat_rate).round(2),
        "gross_amount": (net * (1 + rules.vat_rate)).round(2), "cost_amount": (sales["quantity"] * cost).round(2),
        "returned_quantity": sales["returned_quantity"].astype("int64")})
    report.add("sales lines imported", len(sales), net.sum())
    counted = sum(rows for rule, rows, _ in report.lines if not rule.startswith(("purchases cancelled", "no customer: an")))
    if counted != report.rows_in:  # a rule that misses or double-counts rows is a bug, never a silent drop
        raise AssertionError(f"flat import: {counted} rows accounted for, {report.rows_in} read")

    # customers: first purchase, status from the data's last day
    last_day = sales["order_date"].max()
    per_customer = sales.groupby("customer").agg(signup_date=("order_date", "min"), last=("order_date", "max"),
                                                 country=("country", "first") if "country" in sales else ("customer", "first"))
    customers = per_customer.reset_index().rename(columns={"customer": "customer_id"})
    customers["customer_type"] = np.where(customers["customer_id"].isin(guests), "B2C", rules.customer_type)
    customers["status"] = np.where(customers["last"] > last_day - pd.DateOffset(months=12), "asiakas", "entinen")
    customers["name"] = np.where(customers["customer_type"] == "B2B", "Yritys " + customers["customer_id"],
                                 "Asiakas " + customers["customer_id"])
    customers["region"] = customers["country"] if "country" in sales else pd.NA
    customers = customers.drop(columns=["last", "country"]).assign(
        business_id=pd.NA, industry_code=pd.NA, industry=pd.NA, employees=pd.NA, size_class=pd.NA, city=pd.NA,
        postcode=pd.NA, birth_year=pd.NA, household_size=pd.NA, acquisition_channel=pd.NA, account_manager_id=pd.NA,
        portfolio=pd.NA, estimated_potential=np.nan, marketing_consent=False, email=pd.NA, phone=pd.NA)
    tables = {"customers": customers, "products": products, "orders": orders, "order_lines": lines}
    return {name: df[TABLE_BY_NAME[name].column_names].reset_index(drop=True) for name, df in tables.items()}


def _match_returns(sales: pd.DataFrame, returns: pd.DataFrame, report: FlatReport) -> np.ndarray:
    """returned_quantity per sales line: each cancellation line goes to the same customer's latest
    earlier purchase of the same product (at most what that line bought); the rest is counted."""
    out = np.zeros(len(sales), dtype="int64")
    if returns.empty:
        report.add("cancellations matched to earlier purchases", 0, 0.0)
        report.add("cancellations with no earlier purchase to match: left out", 0, 0.0)
        return out
    left = returns.sort_values("date")[["date", "customer", "product", "quantity", "unit_price"]]
    right = sales.sort_values("date")[["date", "customer", "product", "line_key", "quantity"]]
    matched = pd.merge_asof(left, right.rename(columns={"quantity": "bought"}), on="date",
                            by=["customer", "product"], direction="backward")
    found = matched["line_key"].notna()
    per_line = matched[found].groupby("line_key")["quantity"].sum()
    bought = sales.set_index("line_key")["quantity"].reindex(per_line.index)
    taken = np.minimum(per_line, bought)
    out[taken.index.astype("int64")] = taken.astype("int64").to_numpy()
    excess = per_line - taken
    price = sales.set_index("line_key")["unit_price"].reindex(excess.index)
    report.add("cancellations matched to earlier purchases (returned_quantity)", int(found.sum()),
               float((matched.loc[found, "quantity"] * matched.loc[found, "unit_price"]).sum()))
    unmatched = ~found
    report.add("cancellations with no earlier purchase to match: left out", int(unmatched.sum()),
               float((matched.loc[unmatched, "quantity"] * matched.loc[unmatched, "unit_price"]).sum()))
    report.add("purchases cancelled more than bought (the excess units left out)", int((excess > 0).sum()),
               float((excess * price).sum()))
    return out


def assumptions(rules: FlatRules, has_guests: bool) -> list[str]:
    """What the derived tables assume where a flat export has no data, in Finnish for the notebooks
    (``crmkit-data.toml``'s ``assumptions``; :func:`crmkit.runtime.data.say_assumptions`)."""
    said = [f"kustannukset eivät tule viennistä: tuotteen yksikkökustannus on {fi_percent(rules.cost_share)} sen "
            f"mediaanihinnasta, joten myyntikate on {fi_percent(1 - rules.cost_share)} myynnistä kaikilla riveillä; "
            "kannattavuuserot syntyvät vain määristä, hinnoista, palautuksista ja toimitusmaksuista.",
            f"kaikki nimetyt asiakkaat ovat tuontisäännön mukaan {'yritysasiakkaita (B2B)' if rules.customer_type == 'B2B' else 'kuluttajia (B2C)'}; "
            "toimialaa, kokoa, potentiaalia, salkkua ja hankintakanavaa ei ole.",
            "markkinointilupia ei ole viennissä: lupa on merkitty puuttuvaksi (False) kaikille.",
            f"arvonlisävero on yksi kanta kaikille riveille ({fi_percent(rules.vat_rate)})."]
    if has_guests:
        said.append("asiakasnumerottomat ostot ovat nimettömiä vierasasiakkaita (B2C), yksi asiakas laskua kohden: "
                    "jokaisella on täsmälleen yksi tilaus, joten niiden ostotiheyttä, pysyvyyttä ja kohortteja ei voi "
                    "laskea (ne näyttävät nollaa), eikä niistä voi päätellä kuluttaja-asiakkaiden käyttäytymistä.")
    return said


def fi_percent(share: float) -> str:
    """A share as a Finnish percentage: 0.6 -> '60 %', 0.255 -> '25,5 %'."""
    return f"{100 * share:.1f}".rstrip("0").rstrip(".").replace(".", ",") + " %"


def import_flat(fm: FlatMapping, mfile: str) -> tuple[dict[str, pd.DataFrame], FlatReport]:
    """Read and derive; raise :class:`ImportProblems` listing every unreadable cell."""
    df, problems = read_export(fm)
    if problems:
        raise ImportProblems(problems, mfile)
    report = FlatReport()
    return derive_tables(df, fm.rules, report), report
