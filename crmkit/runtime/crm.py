"""A small CRM API over the SQLite CRM (``data/crm.sqlite``): the course's operational CRM.

Lesson 08 and the project work use it the way a salesperson uses a CRM application::

    from crmkit.runtime.crm import CRM, CRMError

    crm = CRM.working_copy()                      # a fresh copy of data/crm.sqlite in a scratch folder
    crm.search_customers(text="kahvila", customer_type="B2B", status="asiakas")
    card = crm.customer_card("B0036")             # the 360° customer card (shows itself as HTML)
    crm.log_activity("B0036", "S03", "käynti", "2025-12-31", duration_min=60,
                     outcome="jatkotoimenpide", note="Vuosipalaveri", contact_id="K00099")
    crm.move_opportunity("OPP…", "kontaktointi", "2025-12-31")   # the next stage of an open deal
    cmp = crm.create_campaign("Uutuuspapu 2026", "B2C", "sähköposti", "2026-04-13", "2026-04-26",
                              target_segment="Pirkanmaan kuluttajat", cost=900)
    crm.campaign_target_list(cmp, regions=["Pirkanmaa"])   # only customers who gave consent

Rules the API keeps (the same a real CRM's validation would keep):

* **Never the master database.** :meth:`CRM.working_copy` copies ``crm.sqlite`` from the data folder
  into a new scratch folder; every run gets a fresh copy, so re-running a notebook is safe. Opening
  the course's own ``data/crm.sqlite`` directly gives a read-only CRM.
* **All or nothing.** Each write runs in one transaction (``with con:``): when anything fails, nothing
  of it is left in the database.
* **Validated against the schema** (:mod:`crmkit.runtime.schema`): activity types, outcomes, pipeline stages
  and lead sources must be the schema's values; ids must exist; dates are ISO ``yyyy-mm-dd`` and may
  not lie after the data's today (the CRM's ``today``: the data world's 2025-12-31 unless told
  otherwise) – a CRM logs what happened, plans live in a calendar – except campaign dates, which are plans.
* **The pipeline moves one stage at a time**: liidi → kontaktointi → tarjous → neuvottelu → tilaus.
  Skipping a stage is refused (move through each stage, on the same date if the deal went fast);
  ``menetetty`` (lost) can be entered from any open stage and needs a reason; ``tilaus`` and
  ``menetetty`` are final. Every move writes its ``opportunity_history`` row in the same transaction.
* **Marketing consent.** A campaign's target list takes a consumer (B2C) only with the customer's own
  ``customers.marketing_consent``; a company (B2B) only through a contact person who has given
  ``contacts.marketing_consent`` – the company's flag is not a person's consent.

Errors are :class:`CRMError` subclasses whose Finnish message names the problem and the fix.
"""

from __future__ import annotations

import atexit
import datetime as dt
import html
import shutil
import sqlite3
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from crmkit.runtime import schema
from crmkit.runtime.data import data_today
from crmkit.runtime.errors import KitError
from crmkit.runtime.paths import DataNotFound, course_data_dir, data_dir

OPEN_STAGES = ("liidi", "kontaktointi", "tarjous", "neuvottelu")
WON, LOST = "tilaus", "menetetty"
FINAL_STAGES = (WON, LOST)
DB_NAME = "crm.sqlite"


# ---------------------------------------------------------------------------------------------
# errors


class CRMError(KitError):
    """Base class of the CRM's errors (messages in Finnish: what is wrong and how to fix it)."""


class NotFoundError(CRMError, LookupError):
    """An id that the CRM does not know (customer, staff member, contact, opportunity, campaign)."""


class ValidationError(CRMError, ValueError):
    """A value the CRM refuses: an unknown activity type, a bad date, a missing reason…"""


class StageError(ValidationError):
    """A pipeline move against the stage rules (skipping, going back, reopening a closed case)."""


class ReadOnlyError(CRMError):
    """A write to a read-only CRM (the course's master database)."""


# ---------------------------------------------------------------------------------------------
# helpers


def _values(table: str, column: str) -> tuple:
    return schema.TABLE_BY_NAME[table].column(column).values


ACTIVITY_TYPES = _values("activities", "activity_type")
OUTCOMES = _values("activities", "outcome")
LEAD_SOURCES = _values("opportunities", "lead_source")
AUDIENCES = _values("campaigns", "audience")
CAMPAIGN_CHANNELS = _values("campaigns", "channel")
STATUSES = _values("customers", "status")
CUSTOMER_TYPES = _values("customers", "customer_type")


def _choice(value, allowed: Iterable, what: str) -> str:
    allowed = tuple(allowed)
    if value not in allowed:
        raise ValidationError(f"{what} {value!r} ei ole sallittu arvo. Käytä jotakin näistä: "
                              + ", ".join(repr(a) for a in allowed) + ".")
    return value


def iso_date(value, what: str = "päivämäärä") -> str:
    """``value`` (``'2025-12-31'``, a date or a Timestamp) as ISO text, or a ValidationError."""
    if isinstance(value, (dt.date, pd.Timestamp)):
        return pd.Timestamp(value).strftime("%Y-%m-%d")
    try:
        return dt.date.fromisoformat(str(value).strip()).isoformat()
    except ValueError:
        raise ValidationError(f"{what} {value!r} ei kelpaa: anna päivä muodossa VVVV-KK-PP, "
                              "esimerkiksi '2025-12-31'.") from None


def _ids(prefix: str, width: int, existing: str | None) -> str:
    """The next id after ``existing`` (``AKT004019`` -> ``AKT004020``)."""
    n = int(existing[len(prefix):]) if existing else 0
    return f"{prefix}{n + 1:0{width}d}"


#: 0/1 columns the customer card shows as kyllä/ei
_YES_NO_COLUMNS = {"is_primary", "marketing_consent"}

#: what a stage error adds: the usual cause is a cell run twice on the same working copy
_RERUN = ("Jos ajoit solun uudelleen, siirto tehtiin jo ensimmäisellä kerralla: jatka tästä, tai aloita "
          "työkopiosta alusta (Kernel → Restart Kernel and Run All Cells).")


def _casefold(s):
    return None if s is None else str(s).casefold()


def working_copy(folder=None, dest=None) -> Path:
    """Copy ``crm.sqlite`` from the data folder (``folder``; None = ``data/``) to ``dest``.

    ``dest`` is a file path (with an extension, e.g. ``.sqlite``) or a folder (None = a new scratch
    folder under the system's temporary folder, removed when the Python process — the kernel — ends).
    Returns the copy's path. The source is only read; copying onto it is refused.
    """
    src = data_dir(folder) / DB_NAME
    if not src.exists():
        raise NotFoundError(f"CRM-tietokantaa ei löydy: {src}. Tarkista DATA_DIR tai luo aineisto "
                            f"komennolla `crmkit data --out {src.parent}`.")
    if dest is None:
        scratch = tempfile.mkdtemp(prefix="crm_tyokopio_")
        atexit.register(shutil.rmtree, scratch, True)  # a scratch copy lives as long as the kernel
        dest = Path(scratch) / DB_NAME
    dest = Path(dest)
    if dest.is_dir() or not dest.suffix:  # a folder (existing, or a name without a file extension)
        dest = dest / DB_NAME
    if dest.exists() and dest.resolve() == src.resolve():
        raise CRMError(f"Työkopio ei voi olla alkuperäinen tietokanta ({src}). Anna toinen kohde.")
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dest)
    return dest


# ---------------------------------------------------------------------------------------------
# the customer card


@dataclass(repr=False)
class CustomerCard:
    """The 360° customer card: everything the CRM knows about one customer, joined to that customer.

    ``customer`` is the register row (plus the account manager's name and the care model's contact
    interval); the other fields are DataFrames, newest first. ``erp_orders`` are the order headers
    that the ERP integration brought in (values are in the ERP's order lines, not in the CRM).
    """

    customer: dict
    contacts: pd.DataFrame
    contracts: pd.DataFrame
    open_opportunities: pd.DataFrame
    closed_opportunities: pd.DataFrame
    activities: pd.DataFrame
    erp_orders: pd.DataFrame
    today: str = schema.TODAY
    last_activity: str | None = field(init=False, default=None)
    days_since_activity: int | None = field(init=False, default=None)
    contact_interval_days: int | None = field(init=False, default=None)
    overdue: bool | None = field(init=False, default=None)

    def __post_init__(self):
        if len(self.activities):
            self.last_activity = str(self.activities["activity_date"].max())
            self.days_since_activity = (pd.Timestamp(self.today) - pd.Timestamp(self.last_activity)).days
        interval = self.customer.get("contact_interval_days")
        self.contact_interval_days = None if interval is None or pd.isna(interval) else int(interval)
        if self.contact_interval_days is not None:
            self.overdue = self.days_since_activity is None or self.days_since_activity > self.contact_interval_days

    @property
    def customer_id(self) -> str:
        return self.customer["customer_id"]

    def summary(self) -> str:
        """A few lines in Finnish: who, portfolio, contact rhythm, open pipeline, ERP orders."""
        c = self.customer
        lines = [f"{c['customer_id']} {c['name']} ({c['customer_type']}, {c['status']}"
                 + (f", salkku {c['portfolio']}" if c.get("portfolio") else "") + ")"]
        if c.get("account_manager_name"):
            lines.append(f"asiakkuuspäällikkö: {c['account_manager_name']} ({c['account_manager_id']})")
        if self.last_activity:
            rhythm = f"viimeisin toimenpide {self.last_activity} ({self.days_since_activity} pv sitten)"
        else:
            rhythm = "ei kirjattuja toimenpiteitä"
        if self.contact_interval_days is not None:
            rhythm += f"; hoitomallin väli {self.contact_interval_days} pv" + (" – MYÖHÄSSÄ" if self.overdue else "")
        lines.append(rhythm)
        total = f"{self.open_opportunities['amount'].sum():,.0f}".replace(",", " ")
        lines.append(f"avoimia kauppoja {len(self.open_opportunities)}, yhteensä {total} €")
        n = len(self.erp_orders)
        last = self.erp_orders["order_date"].max() if n else "–"
        lines.append(f"ERP-tilauksia {n}, viimeisin {last}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"CustomerCard(\n{self.summary()}\n)"

    def _repr_html_(self) -> str:
        def table(df: pd.DataFrame, cols: list[str], n: int = 10) -> str:
            if df.empty:
                return "<p><i>ei rivejä</i></p>"
            shown = df[cols].head(n).copy()
            for flag in set(cols) & _YES_NO_COLUMNS:
                shown[flag] = shown[flag].map({1: "kyllä", 0: "ei"})  # True == 1
            return shown.to_html(index=False, border=0, na_rep="–")

        c = self.customer
        head = "<br>".join(html.escape(line) for line in self.summary().splitlines())
        parts = [f"<div style='border:1px solid #8c5a3c;padding:6px 10px;border-radius:6px'>"
                 f"<b>Asiakaskortti</b><br>{head}",
                 "<h4>Yhteyshenkilöt ja ostokeskuksen roolit</h4>",
                 table(self.contacts, ["contact_id", "first_name", "last_name", "title", "buying_role",
                                       "is_primary", "marketing_consent"]),
                 "<h4>Sopimukset</h4>",
                 table(self.contracts, ["contract_id", "start_date", "end_date", "annual_value", "service_level"]),
                 "<h4>Avoimet myyntimahdollisuudet</h4>",
                 table(self.open_opportunities, ["opportunity_id", "stage", "amount", "created_date", "owner_id"]),
                 "<h4>Viimeisimmät toimenpiteet</h4>",
                 table(self.activities, ["activity_date", "activity_type", "staff_id", "contact_id", "outcome", "note"], 8),
                 "<h4>ERP-tilaukset (otsikot)</h4>",
                 table(self.erp_orders, ["order_id", "order_date", "channel", "status", "opportunity_id"], 8),
                 "</div>"]
        if c.get("customer_type") == "B2C":
            parts.insert(2, "<p><i>Kuluttaja-asiakas: yhteystiedot ovat henkilötietoja.</i></p>")
        return "\n".join(parts)


# ---------------------------------------------------------------------------------------------
# the CRM


class CRM:
    """One CRM database. ``CRM(path)`` opens it; :meth:`working_copy` makes a fresh copy first.

    ``con`` is the open :class:`sqlite3.Connection` (foreign keys on) for your own queries, e.g.
    ``pd.read_sql("SELECT * FROM opportunities", crm.con)``; :meth:`query` does the same.
    """

    def __init__(self, path, readonly: bool = False, today: str = schema.TODAY):
        self.path = Path(path)
        if not self.path.exists():
            raise NotFoundError(f"Tietokantaa {self.path} ei ole. Tee työkopio: crm = CRM.working_copy(DATA_DIR).")
        try:
            master = (course_data_dir() / DB_NAME).resolve()
        except DataNotFound:
            master = None
        self.readonly = readonly or self.path.resolve() == master
        self.today = iso_date(today, "today")
        if self.readonly:
            self.con = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True)
        else:
            self.con = sqlite3.connect(self.path)
        self.con.execute("PRAGMA foreign_keys = ON")
        self.con.create_function("casefold", 1, _casefold, deterministic=True)

    @classmethod
    def working_copy(cls, folder=None, dest=None, today: str | None = None) -> CRM:
        """A CRM on a fresh copy of ``crm.sqlite`` from the data folder (see :func:`working_copy`).

        ``today`` defaults to the data folder's own today (:func:`crmkit.runtime.data.data_today`).
        """
        if today is None:
            today = str(data_today(folder).date())
        return cls(working_copy(folder, dest), today=today)

    def __repr__(self) -> str:
        mode = "vain luku" if self.readonly else "työkopio"
        return f"CRM({str(self.path)!r}, {mode})"

    def close(self) -> None:
        self.con.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- reading ---------------------------------------------------------------------------

    def query(self, sql: str, params=()) -> pd.DataFrame:
        """The result of a SELECT as a DataFrame (``params`` fill the ``?`` placeholders)."""
        return pd.read_sql_query(sql, self.con, params=list(params))

    def table(self, name: str) -> pd.DataFrame:
        """A whole table of the CRM as a DataFrame (dates stay ISO text, booleans 0/1)."""
        if name not in {r[0] for r in self.con.execute("SELECT name FROM sqlite_master WHERE type='table'")}:
            raise NotFoundError(f"CRM:ssä ei ole taulua {name!r}. Taulut: {', '.join(self.tables())}.")
        return self.query(f'SELECT * FROM "{name}"')

    def tables(self) -> list[str]:
        """The CRM's table names."""
        return [r[0] for r in self.con.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]

    def _one(self, sql: str, params=()):
        row = self.con.execute(sql, params).fetchone()
        return None if row is None else row[0]

    def _require(self, table: str, key: str, value, what: str, hint: str) -> None:
        if value is None or self._one(f'SELECT 1 FROM "{table}" WHERE "{key}" = ?', (value,)) is None:
            raise NotFoundError(f"{what} {value!r} ei löydy CRM:stä. {hint}")

    def search_customers(self, text: str | None = None, customer_type: str | None = None,
                         status: str | Iterable[str] | None = None, portfolio: str | Iterable[str] | None = None,
                         account_manager_id: str | None = None) -> pd.DataFrame:
        """Customers whose id, name, business id or city contains ``text`` (case-insensitive),
        narrowed by type, status (one or several), portfolio and account manager; sorted by id."""
        where, params = [], []
        if text:
            where.append("(casefold(customer_id) LIKE ? OR casefold(name) LIKE ? OR casefold(business_id) LIKE ?"
                         " OR casefold(city) LIKE ?)")
            params += [f"%{str(text).casefold()}%"] * 4
        if customer_type is not None:
            where.append("customer_type = ?")
            params.append(_choice(customer_type, CUSTOMER_TYPES, "Asiakastyyppi"))
        for col, value, allowed, what in (("status", status, STATUSES, "Tila"),
                                          ("portfolio", portfolio, schema.PORTFOLIOS, "Salkku")):
            if value is None:
                continue
            values = [value] if isinstance(value, str) else list(value)
            for v in values:
                _choice(v, allowed, what)
            where.append(f"{col} IN ({', '.join('?' * len(values))})")
            params += values
        if account_manager_id is not None:
            self._require("staff", "staff_id", account_manager_id, "Asiakkuuspäällikkö",
                          "Katso tunnukset taulusta staff (S01…).")
            where.append("account_manager_id = ?")
            params.append(account_manager_id)
        sql = ("SELECT customer_id, customer_type, status, name, business_id, industry, size_class, city, region, "
               "portfolio, account_manager_id, marketing_consent FROM customers")
        if where:
            sql += " WHERE " + " AND ".join(where)
        return self.query(sql + " ORDER BY customer_id", params)

    def customer_card(self, customer_id: str, n_activities: int = 20) -> CustomerCard:
        """The 360° card of one customer (see :class:`CustomerCard`)."""
        self._require("customers", "customer_id", customer_id, "Asiakasta",
                      "Hae oikea tunnus: crm.search_customers(text=...).")
        p = (customer_id,)
        cust = self.query(
            "SELECT c.*, s.name AS account_manager_name, m.contact_interval_days FROM customers c "
            "LEFT JOIN staff s ON s.staff_id = c.account_manager_id "
            "LEFT JOIN care_models m ON m.portfolio = c.portfolio WHERE c.customer_id = ?", p).iloc[0].to_dict()
        cust = {k: (None if (v is None or (isinstance(v, float) and pd.isna(v))) else v) for k, v in cust.items()}
        opps = self.query("SELECT o.*, (SELECT MAX(entered_at) FROM opportunity_history h "
                          "WHERE h.opportunity_id = o.opportunity_id) AS last_stage_change "
                          "FROM opportunities o WHERE customer_id = ? ORDER BY created_date DESC", p)
        is_open = opps["stage"].isin(OPEN_STAGES)
        return CustomerCard(
            customer=cust,
            contacts=self.query("SELECT * FROM contacts WHERE customer_id = ? ORDER BY is_primary DESC, contact_id", p),
            contracts=self.query("SELECT * FROM contracts WHERE customer_id = ? ORDER BY start_date DESC", p),
            open_opportunities=opps[is_open].reset_index(drop=True),
            closed_opportunities=opps[~is_open].reset_index(drop=True),
            activities=self.query("SELECT * FROM activities WHERE customer_id = ? "
                                  "ORDER BY activity_date DESC, activity_id DESC LIMIT ?", (customer_id, n_activities)),
            erp_orders=self.query("SELECT * FROM orders WHERE customer_id = ? AND source_system = 'ERP' "
                                  "ORDER BY order_date DESC, order_id DESC", p),
            today=self.today,
        )

    def card_widget(self, customer_ids: Iterable[str] | None = None):
        """An ipywidgets view of the card: a search box and a customer list; picking one shows its card.

        ``customer_ids`` limits the list (e.g. a call list); None offers every B2B customer.
        """
        import ipywidgets as widgets

        if customer_ids is None:
            base = self.search_customers(customer_type="B2B")
        else:
            ids = list(customer_ids)
            base = self.search_customers().set_index("customer_id").loc[ids].reset_index()
        options = [(f"{r.customer_id} {r.name}", r.customer_id) for r in base.itertuples()]
        search = widgets.Text(placeholder="hae nimellä tai tunnuksella", description="Haku:")
        pick = widgets.Dropdown(options=options, description="Asiakas:", layout=widgets.Layout(width="420px"))
        out = widgets.HTML()

        def show(*_):
            out.value = self.customer_card(pick.value)._repr_html_() if pick.value else "<i>ei osumia</i>"

        def narrow(change):
            q = change["new"].casefold()
            pick.options = [o for o in options if q in o[0].casefold()]

        search.observe(narrow, names="value")
        pick.observe(show, names="value")
        show()
        return widgets.VBox([widgets.HBox([search, pick]), out])

    # -- writing ---------------------------------------------------------------------------

    def _writable(self) -> None:
        if self.readonly:
            raise ReadOnlyError("Tämä CRM on avattu vain luettavaksi (kurssin alkuperäinen tietokanta). "
                                "Tee työkopio ja kirjaa siihen: crm = CRM.working_copy(DATA_DIR).")

    def _past_date(self, value, what: str, allow_future: bool = False) -> str:
        day = iso_date(value, what)
        if day < schema.EARLIEST:
            raise ValidationError(f"{what} {day} on ennen CRM:n aikaa ({schema.EARLIEST}). Tarkista vuosi.")
        if day > self.today and not allow_future:
            raise ValidationError(f"{what} {day} on tulevaisuudessa (tänään on {self.today}). CRM:ään kirjataan "
                                  "tehty toimenpide; suunniteltu tehtävä kuuluu kalenteriin.")
        return day

    def _write(self, statements: list[tuple[str, object]]) -> None:
        """Run the statements in one transaction: all of them, or none if any fails."""
        try:
            with self.con:
                for sql, params in statements:
                    if isinstance(params, list):
                        self.con.executemany(sql, params)
                    else:
                        self.con.execute(sql, params)
        except sqlite3.Error as e:
            raise CRMError(f"Tietokanta hylkäsi kirjauksen ({e}); mitään ei tallennettu. Tarkista tunnisteet "
                           "ja arvot.") from e

    def log_activity(self, customer_id: str, staff_id: str, activity_type: str, activity_date,
                     duration_min: int = 30, outcome: str = "onnistui", note: str = "",
                     contact_id: str | None = None, opportunity_id: str | None = None,
                     allow_future: bool = False) -> str:
        """Log an activity (visit, call, e-mail, meeting, webinar) and return its new ``activity_id``.

        The contact and the opportunity, if given, must belong to the customer; the date may not be
        after today unless ``allow_future``; ``note`` must say something.
        """
        self._writable()
        self._require("customers", "customer_id", customer_id, "Asiakasta",
                      "Hae oikea tunnus: crm.search_customers(text=...).")
        self._require("staff", "staff_id", staff_id, "Työntekijää", "Tunnukset ovat taulussa staff (S01…).")
        _choice(activity_type, ACTIVITY_TYPES, "Toimenpiteen tyyppi")
        _choice(outcome, OUTCOMES, "Tulos")
        day = self._past_date(activity_date, "Toimenpiteen päivä", allow_future)
        if not isinstance(duration_min, (int,)) or isinstance(duration_min, bool) or not 1 <= duration_min <= 480:
            raise ValidationError(f"Kesto {duration_min!r} ei kelpaa: anna minuutit kokonaislukuna 1–480.")
        if not str(note or "").strip():
            raise ValidationError("Muistiinpano puuttuu: kirjaa lyhyesti, mitä sovittiin (note='…'), jotta "
                                  "kollega ymmärtää tilanteen ilman sinua.")
        if contact_id is not None:
            owner = self._one("SELECT customer_id FROM contacts WHERE contact_id = ?", (contact_id,))
            if owner is None:
                raise NotFoundError(f"Yhteyshenkilöä {contact_id!r} ei löydy. Katso asiakaskortin contacts.")
            if owner != customer_id:
                raise ValidationError(f"Yhteyshenkilö {contact_id} kuuluu asiakkaalle {owner}, ei asiakkaalle "
                                      f"{customer_id}. Valitse henkilö asiakaskortin yhteyshenkilöistä.")
        if opportunity_id is not None:
            owner = self._one("SELECT customer_id FROM opportunities WHERE opportunity_id = ?", (opportunity_id,))
            if owner is None:
                raise NotFoundError(f"Myyntimahdollisuutta {opportunity_id!r} ei löydy.")
            if owner != customer_id:
                raise ValidationError(f"Myyntimahdollisuus {opportunity_id} on asiakkaan {owner}, ei asiakkaan "
                                      f"{customer_id}. Tarkista tunnus asiakaskortilta.")
        new_id = _ids("AKT", 6, self._one("SELECT MAX(activity_id) FROM activities"))
        self._write([("INSERT INTO activities (activity_id, customer_id, contact_id, staff_id, activity_type, "
                      "activity_date, duration_min, opportunity_id, outcome, note) VALUES (?,?,?,?,?,?,?,?,?,?)",
                      (new_id, customer_id, contact_id, staff_id, activity_type, day, int(duration_min),
                       opportunity_id, outcome, str(note).strip()))])
        return new_id

    def create_opportunity(self, customer_id: str, owner_id: str, amount: float, lead_source: str,
                           created_date) -> str:
        """Open a new opportunity in stage ``liidi`` (with its history row); return its id."""
        self._writable()
        self._require("customers", "customer_id", customer_id, "Asiakasta",
                      "Hae oikea tunnus: crm.search_customers(text=...).")
        self._require("staff", "staff_id", owner_id, "Vastuumyyjää", "Tunnukset ovat taulussa staff (S01…).")
        _choice(lead_source, LEAD_SOURCES, "Liidin lähde")
        if isinstance(amount, bool) or not isinstance(amount, (int, float)) or not amount > 0:
            raise ValidationError(f"Kaupan arvo {amount!r} ei kelpaa: anna arvioitu arvo euroina (alv 0 %), yli 0.")
        day = self._past_date(created_date, "Luontipäivä")
        new_id = _ids("OPP", 5, self._one("SELECT MAX(opportunity_id) FROM opportunities"))
        self._write([
            ("INSERT INTO opportunities (opportunity_id, customer_id, created_date, lead_source, stage, amount, "
             "close_date, owner_id, lost_reason) VALUES (?,?,?,?,?,?,NULL,?,NULL)",
             (new_id, customer_id, day, lead_source, "liidi", float(amount), owner_id)),
            ("INSERT INTO opportunity_history (opportunity_id, stage, entered_at) VALUES (?,?,?)",
             (new_id, "liidi", day)),
        ])
        return new_id

    def move_opportunity(self, opportunity_id: str, new_stage: str, date, lost_reason: str | None = None) -> None:
        """Move an opportunity to ``new_stage`` on ``date`` (rules in the module's docstring).

        Writes the stage (and for ``tilaus``/``menetetty`` the close date and reason) and the
        ``opportunity_history`` row in one transaction.
        """
        self._writable()
        row = self.con.execute("SELECT stage FROM opportunities WHERE opportunity_id = ?", (opportunity_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"Myyntimahdollisuutta {opportunity_id!r} ei löydy. Tarkista tunnus "
                                "(muotoa OPP00001) asiakaskortilta.")
        current = row[0]
        _choice(new_stage, schema.STAGES, "Vaihe")
        if current in FINAL_STAGES:
            raise StageError(f"{opportunity_id} on jo suljettu (vaihe {current}); suljettua kauppaa ei siirretä. "
                             f"{_RERUN} Jos asiakas palaa asiaan, avaa uusi myyntimahdollisuus.")
        if new_stage == current:
            raise StageError(f"{opportunity_id} on jo vaiheessa {current}. {_RERUN}")
        order = {s: i for i, s in enumerate(OPEN_STAGES + (WON,))}
        if new_stage != LOST:
            if order[new_stage] < order[current]:
                raise StageError(f"{opportunity_id}: vaiheesta {current} ei palata taaksepäin vaiheeseen {new_stage}. "
                                 f"{_RERUN} Jos kauppa todella kariutui, merkitse se menetetyksi ja avaa "
                                 "tarvittaessa uusi.")
            if order[new_stage] > order[current] + 1:
                nxt = (OPEN_STAGES + (WON,))[order[current] + 1]
                raise StageError(f"{opportunity_id}: vaiheesta {current} ei voi hypätä vaiheeseen {new_stage}. "
                                 f"Siirrä ensin vaiheeseen {nxt} (samana päivänä, jos asia eteni nopeasti).")
        if new_stage == LOST and not str(lost_reason or "").strip():
            raise ValidationError(f"{opportunity_id}: menetetylle kaupalle tarvitaan syy (lost_reason='…', "
                                  "esim. 'hinta' tai 'kilpailija valittiin'), jotta häviöistä voi oppia.")
        if new_stage != LOST and lost_reason is not None:
            raise ValidationError(f"Häviön syy annetaan vain, kun kauppa merkitään menetetyksi; nyt vaihe on {new_stage}.")
        day = self._past_date(date, "Siirtopäivä")
        last = self._one("SELECT MAX(entered_at) FROM opportunity_history WHERE opportunity_id = ?", (opportunity_id,))
        if last is not None and day < last:
            raise ValidationError(f"{opportunity_id}: siirtopäivä {day} on ennen edellistä vaihemuutosta ({last}). "
                                  "Anna päivä, jona siirto todella tapahtui.")
        close = day if new_stage in FINAL_STAGES else None
        reason = str(lost_reason).strip() if new_stage == LOST else None
        self._write([
            ("UPDATE opportunities SET stage = ?, close_date = ?, lost_reason = ? WHERE opportunity_id = ?",
             (new_stage, close, reason, opportunity_id)),
            ("INSERT INTO opportunity_history (opportunity_id, stage, entered_at) VALUES (?,?,?)",
             (opportunity_id, new_stage, day)),
        ])

    def create_campaign(self, name: str, audience: str, channel: str, start_date, end_date,
                        target_segment: str = "", cost: float = 0.0) -> str:
        """Add a campaign (a plan: its dates may lie in the future) and return its ``campaign_id``."""
        self._writable()
        if not str(name or "").strip():
            raise ValidationError("Kampanjalta puuttuu nimi.")
        _choice(audience, AUDIENCES, "Kohderyhmä (audience)")
        _choice(channel, CAMPAIGN_CHANNELS, "Kanava")
        start, end = iso_date(start_date, "Alkupäivä"), iso_date(end_date, "Päättymispäivä")
        if end < start:
            raise ValidationError(f"Kampanja päättyy ({end}) ennen kuin alkaa ({start}). Tarkista päivät.")
        if isinstance(cost, bool) or not isinstance(cost, (int, float)) or cost < 0:
            raise ValidationError(f"Kustannus {cost!r} ei kelpaa: anna euroina (alv 0 %), vähintään 0.")
        if self._one("SELECT 1 FROM campaigns WHERE name = ?", (name,)):
            raise ValidationError(f"Kampanja nimeltä {name!r} on jo olemassa. Jos ajoit solun uudelleen, kampanja luotiin jo "
                                  "ensimmäisellä kerralla: aloita työkopiosta alusta (Kernel → Restart Kernel and Run All "
                                  "Cells) tai käytä sen tunnusta. Vain aidosti uusi kampanja saa uuden nimen.")
        new_id = _ids("CMP", 3, self._one("SELECT MAX(campaign_id) FROM campaigns"))
        self._write([("INSERT INTO campaigns (campaign_id, name, audience, channel, start_date, end_date, "
                      "target_segment, cost) VALUES (?,?,?,?,?,?,?,?)",
                      (new_id, name.strip(), audience, channel, start, end, target_segment, float(cost)))])
        return new_id

    def campaign_targets(self, campaign_id: str, status: str | Iterable[str] = ("asiakas",),
                         industry_codes: Iterable[str] | None = None, portfolios: Iterable[str] | None = None,
                         regions: Iterable[str] | None = None) -> pd.DataFrame:
        """Who a campaign may reach: the campaign's audience narrowed by the criteria, with consent.

        One row per customer: ``customer_id``, ``name`` and, for B2B, the ``contact_id`` through which
        the message goes (the primary contact if he or she has consented, else the first consenting
        contact). Nothing is written; :meth:`campaign_target_list` writes the list.
        """
        camp = self.con.execute("SELECT audience FROM campaigns WHERE campaign_id = ?", (campaign_id,)).fetchone()
        if camp is None:
            raise NotFoundError(f"Kampanjaa {campaign_id!r} ei löydy. Luo se ensin: crm.create_campaign(...).")
        audience = camp[0]
        where, params = ["c.customer_type = ?"], [audience]
        for col, value, allowed, what in (("status", status, STATUSES, "Tila"),
                                          ("portfolio", portfolios, schema.PORTFOLIOS, "Salkku"),
                                          ("industry_code", industry_codes, None, "Toimialakoodi"),
                                          ("region", regions, None, "Maakunta")):
            if value is None:
                continue
            values = [value] if isinstance(value, str) else list(value)
            if not values:
                raise ValidationError(f"{what}: tyhjä lista rajaisi pois kaikki. Anna arvo tai None.")
            if allowed is not None:
                for v in values:
                    _choice(v, allowed, what)
            if audience == "B2C" and col in ("industry_code", "portfolio"):
                raise ValidationError(f"{what} koskee vain yritysasiakkaita, mutta kampanjan {campaign_id} "
                                      "kohderyhmä on B2C. Poista ehto tai valitse B2B-kampanja.")
            where.append(f"c.{col} IN ({', '.join('?' * len(values))})")
            params += values
        if audience == "B2C":
            sql = ("SELECT c.customer_id, c.name, NULL AS contact_id FROM customers c WHERE "
                   + " AND ".join(where + ["c.marketing_consent = 1"]) + " ORDER BY c.customer_id")
        else:
            sql = ("SELECT c.customer_id, c.name, (SELECT k.contact_id FROM contacts k WHERE k.customer_id = "
                   "c.customer_id AND k.marketing_consent = 1 ORDER BY k.is_primary DESC, k.contact_id LIMIT 1) "
                   "AS contact_id FROM customers c WHERE " + " AND ".join(where)
                   + " AND EXISTS (SELECT 1 FROM contacts k WHERE k.customer_id = c.customer_id "
                   "AND k.marketing_consent = 1) ORDER BY c.customer_id")
        return self.query(sql, params)

    def campaign_target_list(self, campaign_id: str, status: str | Iterable[str] = ("asiakas",),
                             industry_codes: Iterable[str] | None = None, portfolios: Iterable[str] | None = None,
                             regions: Iterable[str] | None = None) -> pd.DataFrame:
        """Write the campaign's target list into ``campaign_members`` (one transaction) and return it.

        The list is :meth:`campaign_targets` with the same criteria; ``sent_at`` is the campaign's
        start date. A campaign gets its list once: a campaign that already has members is refused.
        """
        self._writable()
        targets = self.campaign_targets(campaign_id, status, industry_codes, portfolios, regions)
        have = self._one("SELECT COUNT(*) FROM campaign_members WHERE campaign_id = ?", (campaign_id,))
        if have:
            raise ValidationError(f"Kampanjalla {campaign_id} on jo kohdelista ({have} asiakasta). Kohdelista "
                                  "muodostetaan kerran. Jos ajoit solun uudelleen, lista kirjattiin jo ensimmäisellä kerralla: "
                                  "aloita työkopiosta alusta (Kernel → Restart Kernel and Run All Cells). Muuten tee "
                                  "muutokset uuteen kampanjaan.")
        if targets.empty:
            raise ValidationError(f"Ehdoilla ei löytynyt yhtään asiakasta, jolla on markkinointilupa; kampanjalle "
                                  f"{campaign_id} ei kirjattu mitään. Väljennä ehtoja.")
        sent = self._one("SELECT start_date FROM campaigns WHERE campaign_id = ?", (campaign_id,))
        rows = [(campaign_id, cid, sent, 0, 0, None) for cid in targets["customer_id"]]
        self._write([("INSERT INTO campaign_members (campaign_id, customer_id, sent_at, opened, clicked, order_id) "
                      "VALUES (?,?,?,?,?,?)", rows)])
        return targets


__all__ = ["CRM", "CRMError", "CustomerCard", "NotFoundError", "ReadOnlyError", "StageError", "ValidationError",
           "iso_date", "working_copy"]
