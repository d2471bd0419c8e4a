"""The data world's schema: every table and column, declared once.

The schema checks (:mod:`crmkit.runtime.checks`), the data dictionary in ``data/DATA.md``, the importer
and the SQLite CRM all read these declarations, so a column is described in one place only.

Types: ``id`` (text key), ``str``, ``cat`` (text with a fixed set of values), ``int``, ``float``,
``bool``, ``date`` (ISO ``yyyy-mm-dd``), ``datetime`` (ISO ``yyyy-mm-ddThh:mm:ss``).
Money is in euros excluding VAT unless the column says otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

START = "2023-01-01"  # first day of the order history
EARLIEST = "2010-01-01"  # no date in the data world is earlier (B2B customers signed up before START)
TODAY = "2025-12-31"  # the data world's "today"


@dataclass(frozen=True)
class Column:
    """One column: name, type, unit, meaning in Finnish and English, and its constraints."""

    name: str
    type: str
    fi: str
    en: str
    unit: str = ""
    nullable: bool = False
    values: tuple = ()
    min: float | str | None = None  # a number, or an ISO date for date columns
    max: float | str | None = None
    ref: str | None = None  # "table.column" this column refers to (foreign key)


@dataclass(frozen=True)
class Table:
    """One table: its grain, primary key and columns."""

    name: str
    fi: str
    en: str
    key: tuple[str, ...]
    columns: tuple[Column, ...] = field(default_factory=tuple)
    in_crm: bool = True  # also stored in data/crm.sqlite

    @property
    def column_names(self) -> list[str]:
        """The column names in order."""
        return [c.name for c in self.columns]

    def columns_for(self, limits: str = "world") -> tuple[Column, ...]:
        """The columns with the constraints of ``limits``: ``"world"`` (the sample data world's, as
        declared) or ``"business"`` (a company's own data: :data:`BUSINESS_LIMITS` relaxed)."""
        if limits == "world":
            return self.columns
        if limits != "business":
            raise ValueError(f"limits {limits!r}: use one of {', '.join(LIMITS)}")
        return tuple(replace(c, **BUSINESS_LIMITS.get(f"{self.name}.{c.name}", {})) for c in self.columns)

    def column(self, name: str) -> Column:
        """Return the column called `name`."""
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name} has no column {name!r}")


def C(name, type, fi, en, unit="", **kw) -> Column:  # noqa: N802 - short constructor for the table below
    return Column(name, type, fi, en, unit, **kw)


EUR = "EUR, alv 0 % / excl. VAT"
CUSTOMER_TYPES = ("B2C", "B2B")
YESNO = dict(type="bool")
DEVICES = ("mobiili", "tietokone", "tabletti")
TRAFFIC_SOURCES = ("hakukone", "some", "sähköposti", "suora", "mainos")
LEAD_SOURCES = ("messut", "verkkosivu", "suosittelu", "kylmäsoitto", "kampanja", "kumppani")
STAGES = ("liidi", "kontaktointi", "tarjous", "neuvottelu", "tilaus", "menetetty")
BUYING_ROLES = ("päättäjä", "ostaja", "käyttäjä", "vaikuttaja", "portinvartija")
TOUCHPOINT_CHANNELS = ("verkkosivu", "sovellus", "sähköposti", "some", "myymälä", "puhelin",
                       "chat", "myyjän käynti", "messut")
TOUCHPOINTS = ("mainos", "uutiskirje", "tuotesivu", "arvostelu", "ostoskori", "osto", "toimitus",
               "reklamaatio", "palaute", "uusintaosto", "asiakaspalvelu")
JOURNEY_STAGES = ("tietoisuus", "harkinta", "osto", "käyttö", "uskollisuus")
CATEGORIES = ("kahvipavut", "jauhettu", "kapselit", "tee", "laitteet", "huolto", "tarvikkeet")
ORDER_CHANNELS = ("verkkokauppa", "myymälä", "myyjä", "puhelin", "portaali", "EDI")
PORTFOLIOS = ("A", "B", "C", "D")

TABLES: tuple[Table, ...] = (
    Table("customers", "asiakkaat ja prospektit", "customers and prospects", ("customer_id",), (
        C("customer_id", "id", "asiakkaan tunniste", "customer identifier"),
        C("customer_type", "cat", "asiakastyyppi: kuluttaja (B2C) vai yritys (B2B)",
          "customer type: consumer (B2C) or business (B2B)", values=CUSTOMER_TYPES),
        C("status", "cat", "asiakkuuden tila: prospekti, asiakas tai entinen asiakas (ei ostoja 12 kk:een)",
          "relationship status: prospect, customer, or former customer (no purchase in 12 months)",
          values=("prospekti", "asiakas", "entinen")),
        C("name", "str", "nimi (henkilötieto B2C-asiakkaalla)", "name (personal data for a B2C customer)"),
        C("business_id", "str", "Y-tunnus (vain B2B), tarkistemerkki oikein",
          "Finnish business id (B2B only) with a valid check digit", nullable=True),
        C("industry_code", "str", "toimiala, TOL 2008 -koodi (vain B2B)", "industry code, TOL 2008 (B2B only)",
          nullable=True),
        C("industry", "str", "toimialan nimi (vain B2B)", "industry name (B2B only)", nullable=True),
        C("employees", "int", "henkilöstön määrä (vain B2B)", "number of employees (B2B only)", "henkilöä / persons",
          nullable=True, min=1, max=5000),
        C("size_class", "cat", "kokoluokka henkilöstön mukaan (vain B2B)", "size class by employees (B2B only)",
          nullable=True, values=("mikro", "pieni", "keskisuuri", "suuri")),
        C("city", "str", "kotikunta tai toimipaikan kunta", "municipality"),
        C("postcode", "str", "postinumero (5 numeroa)", "postal code (5 digits)"),
        C("region", "str", "maakunta", "region (maakunta)"),
        C("birth_year", "int", "syntymävuosi (vain B2C)", "year of birth (B2C only)", nullable=True,
          min=1930, max=2007),
        C("household_size", "int", "kotitalouden koko (vain B2C)", "household size (B2C only)", "henkilöä / persons",
          nullable=True, min=1, max=8),
        C("signup_date", "date", "päivä, jona asiakas tai prospekti tallennettiin", "date the customer or prospect was recorded"),
        C("acquisition_channel", "cat", "kanava, jonka kautta asiakas hankittiin", "channel through which the customer was acquired",
          values=tuple(dict.fromkeys(("hakukone", "some", "sähköposti", "myymälä", "suosittelu", "mainos") + LEAD_SOURCES))),
        C("account_manager_id", "id", "vastuuhenkilö (vain B2B): asiakkuuspäällikkö A- ja B-asiakkailla, sisämyyjä C- ja D-asiakkailla", "responsible person (B2B only): an account manager for A and B customers, inside sales for C and D",
          nullable=True, ref="staff.staff_id"),
        C("portfolio", "cat", "CRM:ään kirjattu asiakkuussalkku A–D (vain B2B, luokiteltu aineiston viimeisen vuoden "
          "tammikuussa; myös prospekteilla on salkku)",
          "customer portfolio A–D recorded in the CRM (B2B only, classified in January of the data's last year; "
          "prospects have one too)", nullable=True, values=PORTFOLIOS),
        C("estimated_potential", "float", "myyjän arvio asiakkaan koko vuotuisesta kahvi- ja palveluostosta (vain B2B)",
          "account manager's estimate of the customer's total annual coffee and service spend (B2B only)",
          EUR + " / vuosi / year", nullable=True, min=0),
        C("marketing_consent", "bool", "suoramarkkinointilupa", "consent to direct marketing"),
        C("email", "str", "sähköposti (henkilötieto B2C-asiakkaalla)", "e-mail address (personal data for B2C)", nullable=True),
        C("phone", "str", "puhelinnumero (henkilötieto B2C-asiakkaalla)", "phone number (personal data for B2C)", nullable=True),
    )),
    Table("contacts", "B2B-asiakkaiden yhteyshenkilöt", "contact persons at B2B customers", ("contact_id",), (
        C("contact_id", "id", "yhteyshenkilön tunniste", "contact identifier"),
        C("customer_id", "id", "yritysasiakas", "business customer", ref="customers.customer_id"),
        C("first_name", "str", "etunimi", "first name"),
        C("last_name", "str", "sukunimi", "last name"),
        C("title", "str", "tehtävänimike", "job title"),
        C("buying_role", "cat", "rooli ostopäätöksessä (ostokeskus)", "role in the buying centre", values=BUYING_ROLES),
        C("email", "str", "sähköposti", "e-mail address"),
        C("phone", "str", "puhelinnumero", "phone number"),
        C("marketing_consent", "bool", "suoramarkkinointilupa", "consent to direct marketing"),
        C("is_primary", "bool", "asiakkaan ensisijainen yhteyshenkilö", "the customer's primary contact"),
    )),
    Table("staff", "myynti- ja palveluhenkilöstö", "sales and service staff", ("staff_id",), (
        C("staff_id", "id", "työntekijän tunniste", "staff identifier"),
        C("name", "str", "nimi", "name"),
        C("role", "cat", "rooli", "role", values=("asiakkuuspäällikkö", "palvelupäällikkö", "sisämyyjä")),
        C("region", "str", "vastuualue (maakunta tai 'koko maa')", "sales region (region or 'koko maa' = whole country)"),
    )),
    Table("products", "tuotteet ja palvelut", "products and services", ("product_id",), (
        C("product_id", "id", "tuotteen tunniste", "product identifier"),
        C("name", "str", "tuotteen nimi", "product name"),
        C("category", "cat", "tuoteryhmä", "product category", values=CATEGORIES),
        C("sold_to", "cat", "kenelle myydään", "sold to", values=("B2C", "B2B", "both")),
        C("is_premium", "bool", "premium-tuote (erikoiskahvi)", "premium product (specialty coffee)"),
        C("list_price", "float", "listahinta", "list price", EUR + " / myyntiyksikkö / unit", min=0.01),
        C("unit_cost", "float", "yksikkökustannus (hankinta ja paahto)", "unit cost (purchase and roasting)",
          EUR + " / myyntiyksikkö / unit", min=0.01),
        C("vat_rate", "float", "nykyinen arvonlisäverokanta", "current VAT rate", "osuus / share (0.14 = 14 %)",
          values=(0.14, 0.255)),
    )),
    Table("orders", "tilaukset (ERP, verkkokauppa, kassajärjestelmä)", "orders (ERP, web shop, point of sale)",
          ("order_id",), (
        C("order_id", "id", "tilauksen tunniste", "order identifier"),
        C("customer_id", "id", "asiakas", "customer", ref="customers.customer_id"),
        C("order_date", "date", "tilauspäivä", "order date"),
        C("channel", "cat", "myyntikanava", "sales channel", values=ORDER_CHANNELS),
        C("source_system", "cat", "järjestelmä, johon tilaus kirjattiin", "system that recorded the order",
          values=("ERP", "webshop", "POS")),
        C("campaign_id", "id", "kampanja, johon tilaus liittyy (kirjataan vain verkkokaupan tilauksiin; "
          "yritysasiakkaiden kampanjat näkyvät myyntimahdollisuuksien liidin lähteenä)",
          "campaign the order belongs to (recorded on web-shop orders only; B2B campaigns show as the "
          "opportunities' lead source)", nullable=True, ref="campaigns.campaign_id"),
        C("is_subscription", "bool", "kahvitilauksen (kestotilaus) toimitus", "delivery of a coffee subscription"),
        C("delivery_method", "cat", "toimitustapa", "delivery method",
          values=("nouto", "postipaketti", "kotiinkuljetus", "oma jakelu", "rahti")),
        C("delivery_fee", "float", "asiakkaalta veloitettu toimitusmaksu", "delivery fee charged to the customer", EUR, min=0),
        C("delivered_late", "bool", "toimitus myöhästyi luvatusta", "delivery was later than promised"),
        C("status", "cat", "tilauksen tila", "order status", values=("toimitettu", "palautettu", "peruttu")),
        C("opportunity_id", "id", "myyntimahdollisuus, josta tilaus syntyi (B2B)", "sales opportunity that led to the order (B2B)",
          nullable=True, ref="opportunities.opportunity_id"),
        C("staff_id", "id", "myyjä, joka kirjasi tilauksen", "salesperson who booked the order", nullable=True,
          ref="staff.staff_id"),
    ), in_crm=True),
    Table("order_lines", "tilausrivit", "order lines", ("order_id", "line_no"), (
        C("order_id", "id", "tilaus", "order", ref="orders.order_id"),
        C("line_no", "int", "rivinumero", "line number", min=1, max=50),
        C("product_id", "id", "tuote", "product", ref="products.product_id"),
        C("quantity", "int", "määrä", "quantity", "myyntiyksikköä / units", min=1, max=10000),
        C("unit_price", "float", "yksikköhinta ennen alennusta", "unit price before discount", EUR, min=0.01),
        C("discount_pct", "float", "alennus", "discount", "% (0–100)", min=0, max=60),
        C("vat_rate", "float", "tilauspäivänä voimassa ollut alv-kanta", "VAT rate in force on the order date",
          "osuus / share", values=(0.14, 0.24, 0.255)),
        C("net_amount", "float", "rivin arvo alennuksen jälkeen", "line value after discount", EUR, min=0),
        C("vat_amount", "float", "rivin arvonlisävero", "VAT of the line", "EUR", min=0),
        C("gross_amount", "float", "rivin arvo verollisena", "line value including VAT", "EUR, alv mukana / incl. VAT", min=0),
        C("cost_amount", "float", "myytyjen tuotteiden kustannus", "cost of goods sold", EUR, min=0),
        C("returned_quantity", "int", "palautettu määrä", "quantity returned", "myyntiyksikköä / units", min=0),
    ), in_crm=False),
    Table("contracts", "B2B-sopimukset", "B2B contracts", ("contract_id",), (
        C("contract_id", "id", "sopimuksen tunniste", "contract identifier"),
        C("customer_id", "id", "asiakas", "customer", ref="customers.customer_id"),
        C("start_date", "date", "alkupäivä", "start date"),
        C("end_date", "date", "päättymispäivä (voi olla tulevaisuudessa)", "end date (may be in the future)",
          max="2029-12-31"),
        C("annual_value", "float", "sovittu vuosiarvo", "agreed annual value", EUR + " / vuosi / year", min=0),
        C("service_level", "cat", "palvelutaso", "service level", values=("perus", "laaja", "premium")),
    )),
    Table("web_sessions", "verkkokaupan käynnit (B2C)", "web-shop sessions (B2C)", ("session_id",), (
        C("session_id", "id", "käynnin tunniste", "session identifier"),
        C("visitor_id", "id", "selaimen evästetunniste", "browser cookie id"),
        C("customer_id", "id", "tunnistettu asiakas (tyhjä, jos anonyymi)", "identified customer (empty if anonymous)",
          nullable=True, ref="customers.customer_id"),
        C("started_at", "datetime", "käynnin alkuhetki", "session start time"),
        C("device", "cat", "laite", "device", values=DEVICES),
        C("traffic_source", "cat", "liikenteen lähde", "traffic source", values=TRAFFIC_SOURCES),
        C("campaign_id", "id", "kampanja, josta käynti tuli", "campaign that brought the visit", nullable=True,
          ref="campaigns.campaign_id"),
        C("returning_visitor", "bool", "palaava kävijä", "returning visitor"),
        C("viewed_product", "bool", "katsoi tuotesivua (vaihe 1)", "viewed a product page (stage 1)"),
        C("read_reviews", "bool", "luki arvosteluja", "read reviews"),
        C("added_to_cart", "bool", "lisäsi ostoskoriin (vaihe 2)", "added to cart (stage 2)"),
        C("started_checkout", "bool", "aloitti kassan (vaihe 3)", "started checkout (stage 3)"),
        C("purchased", "bool", "osti (vaihe 4)", "purchased (stage 4)"),
        C("reviews_read", "int", "luettujen arvostelujen määrä", "number of reviews read", "kpl / count", min=0, max=50),
        C("price_level", "cat", "hintataso, jonka kävijä näki", "price level the visitor saw", values=("normaali", "kampanja")),
        C("delivery_option_shown", "cat", "näytetty toimitusvaihtoehto", "delivery option shown",
          values=("ilmainen", "maksullinen")),
        C("order_id", "id", "käynnillä syntynyt tilaus", "order placed in the session", nullable=True, ref="orders.order_id"),
    ), in_crm=False),
    Table("touchpoints", "asiakaspolun kosketuspisteet", "touchpoint events on customer journeys", ("event_id",), (
        C("event_id", "id", "tapahtuman tunniste", "event identifier"),
        C("customer_id", "id", "asiakas", "customer", ref="customers.customer_id"),
        C("occurred_at", "datetime", "tapahtuman aika", "time of the event"),
        C("channel", "cat", "kanava", "channel", values=TOUCHPOINT_CHANNELS),
        C("touchpoint", "cat", "kosketuspiste", "touchpoint", values=TOUCHPOINTS),
        C("journey_stage", "cat", "asiakaspolun vaihe", "journey stage", values=JOURNEY_STAGES),
    ), in_crm=False),
    Table("surveys", "asiakaskyselyjen vastaukset", "customer survey answers", ("response_id",), (
        C("response_id", "id", "vastauksen tunniste", "response identifier"),
        C("customer_id", "id", "vastaaja", "respondent", ref="customers.customer_id"),
        C("answered_at", "datetime", "vastausaika", "time of the answer"),
        C("touchpoint", "cat", "kosketuspiste, josta kysyttiin", "touchpoint asked about", values=TOUCHPOINTS),
        C("channel", "cat", "kanava", "channel", values=TOUCHPOINT_CHANNELS),
        C("nps", "int", "suositteluhalukkuus (Net Promoter -kysymys)", "likelihood to recommend (NPS question)", "0–10",
          min=0, max=10),
        C("csat", "int", "tyytyväisyys (CSAT)", "satisfaction (CSAT)", "1–5", min=1, max=5),
        C("comment", "str", "avoin palaute suomeksi", "free-text comment in Finnish", nullable=True),
    ), in_crm=True),
    Table("pipeline_stages", "myyntiputken vaiheet", "sales pipeline stages", ("stage",), (
        C("stage", "cat", "vaihe", "stage", values=STAGES),
        C("stage_order", "int", "vaiheen järjestys", "order of the stage", min=1, max=6),
        C("win_probability", "float", "todennäköisyys, jolla vaiheessa oleva kauppa toteutuu (ennusteen paino)",
          "probability that a case in this stage is won (forecast weight)", "osuus / share", min=0, max=1),
    )),
    Table("opportunities", "myyntimahdollisuudet (B2B)", "sales opportunities (B2B)", ("opportunity_id",), (
        C("opportunity_id", "id", "myyntimahdollisuuden tunniste", "opportunity identifier"),
        C("customer_id", "id", "asiakas tai prospekti", "customer or prospect", ref="customers.customer_id"),
        C("created_date", "date", "luontipäivä", "date created"),
        C("lead_source", "cat", "liidin lähde", "lead source", values=LEAD_SOURCES),
        C("stage", "cat", "nykyinen vaihe", "current stage", values=STAGES, ref="pipeline_stages.stage"),
        C("amount", "float", "arvioitu kaupan arvo", "estimated deal value", EUR, min=0),
        C("close_date", "date", "sulkeutumispäivä (tyhjä, jos auki)", "close date (empty if open)", nullable=True),
        C("owner_id", "id", "vastuumyyjä", "owner (salesperson)", ref="staff.staff_id"),
        C("lost_reason", "str", "häviön syy", "reason for losing", nullable=True),
    )),
    Table("opportunity_history", "myyntimahdollisuuksien vaihemuutokset", "stage changes of opportunities",
          ("opportunity_id", "stage"), (
        C("opportunity_id", "id", "myyntimahdollisuus", "opportunity", ref="opportunities.opportunity_id"),
        C("stage", "cat", "vaihe, johon siirryttiin", "stage entered", values=STAGES, ref="pipeline_stages.stage"),
        C("entered_at", "date", "siirtymäpäivä", "date entered"),
    )),
    Table("opportunity_contacts", "kaupan aikana tavatut ostokeskuksen jäsenet", "buying-centre members met in a case",
          ("opportunity_id", "contact_id"), (
        C("opportunity_id", "id", "myyntimahdollisuus", "opportunity", ref="opportunities.opportunity_id"),
        C("contact_id", "id", "yhteyshenkilö", "contact", ref="contacts.contact_id"),
    )),
    Table("activities", "CRM-toimenpiteet", "CRM activities", ("activity_id",), (
        C("activity_id", "id", "toimenpiteen tunniste", "activity identifier"),
        C("customer_id", "id", "asiakas", "customer", ref="customers.customer_id"),
        C("contact_id", "id", "yhteyshenkilö", "contact", nullable=True, ref="contacts.contact_id"),
        C("staff_id", "id", "tekijä", "staff member", ref="staff.staff_id"),
        C("activity_type", "cat", "toimenpiteen tyyppi", "activity type",
          values=("käynti", "puhelu", "sähköposti", "tapaaminen", "webinaari")),
        C("activity_date", "date", "päivä", "date"),
        C("duration_min", "int", "kesto", "duration", "min", min=1, max=480),
        C("opportunity_id", "id", "myyntimahdollisuus", "opportunity", nullable=True, ref="opportunities.opportunity_id"),
        C("outcome", "cat", "tulos", "outcome", values=("onnistui", "jatkotoimenpide", "ei tavoitettu", "ei kiinnostusta")),
        C("note", "str", "muistiinpano", "note"),
    )),
    Table("care_models", "asiakkuussalkkujen hoitomallit", "care models of the customer portfolios", ("portfolio",), (
        C("portfolio", "cat", "asiakkuussalkku", "customer portfolio", values=PORTFOLIOS),
        C("contact_interval_days", "int", "tavoiteltu yhteydenottoväli", "target contact interval", "päivää / days",
          min=1, max=730),
        C("main_channel", "str", "pääasiallinen yhteydenpitokanava", "main contact channel"),
        C("owner_role", "str", "vastuurooli", "owner role"),
        C("activity_plan", "str", "toimenpidesuunnitelma", "activity plan"),
    )),
    Table("service_costs", "asiakkaan palvelukustannukset (cost to serve)", "cost-to-serve events", ("cost_id",), (
        C("cost_id", "id", "kustannuksen tunniste", "cost identifier"),
        C("customer_id", "id", "asiakas", "customer", ref="customers.customer_id"),
        C("incurred_on", "date", "päivä", "date"),
        C("cost_type", "cat", "kustannuslaji", "cost type",
          values=("toimitus", "asiakaspalvelu", "myyntikäynti", "reklamaatio", "laitehuolto")),
        C("amount", "float", "kustannus yritykselle", "cost to the company", EUR, min=0),
    ), in_crm=False),
    Table("campaigns", "markkinointikampanjat", "marketing campaigns", ("campaign_id",), (
        C("campaign_id", "id", "kampanjan tunniste", "campaign identifier"),
        C("name", "str", "kampanjan nimi", "campaign name"),
        C("audience", "cat", "kohderyhmä", "audience", values=CUSTOMER_TYPES),
        C("channel", "cat", "kanava", "channel", values=("sähköposti", "some", "hakukone", "suoramainonta", "myyjä")),
        C("start_date", "date", "alkupäivä", "start date"),
        C("end_date", "date", "päättymispäivä", "end date"),
        C("target_segment", "str", "kohdesegmentti", "target segment"),
        C("cost", "float", "kampanjan kustannus", "cost of the campaign", EUR, min=0),
    )),
    Table("campaign_members", "kampanjan kohdeasiakkaat", "customers targeted by a campaign",
          ("campaign_id", "customer_id"), (
        C("campaign_id", "id", "kampanja", "campaign", ref="campaigns.campaign_id"),
        C("customer_id", "id", "asiakas", "customer", ref="customers.customer_id"),
        C("sent_at", "date", "lähetyspäivä", "date sent"),
        C("opened", "bool", "avasi viestin", "opened the message"),
        C("clicked", "bool", "klikkasi", "clicked"),
        C("order_id", "id", "kampanjasta syntynyt tilaus", "order that came from the campaign", nullable=True,
          ref="orders.order_id"),
    )),
)

TABLE_BY_NAME = {t.name: t for t in TABLES}

#: the two sets of constraints: the sample world's own, and a company's business data
LIMITS = ("world", "business")
#: what the "business" limits relax: the sample world's caps and value lists that describe only
#: the fictional roastery (its VAT rates, product categories, channels, at most 50 lines an order …).
#: The values the lessons' logic relies on (customer type, statuses, pipeline stages, portfolios)
#: stay; so do keys, references, non-negative amounts and bounded scales (NPS 0–10, CSAT 1–5).
#: Dates have no lower bound in "business" (the sample world's is EARLIEST).
BUSINESS_LIMITS: dict[str, dict] = {
    "customers.employees": {"max": None},
    "customers.birth_year": {"min": None, "max": None},
    "customers.household_size": {"max": None},
    "customers.city": {"nullable": True},
    "customers.postcode": {"nullable": True},
    "customers.region": {"nullable": True},
    "customers.acquisition_channel": {"values": (), "nullable": True},
    "products.category": {"values": ()},
    "products.vat_rate": {"values": (), "min": 0, "max": 1},
    "orders.channel": {"values": ()},
    "orders.source_system": {"values": ()},
    "orders.delivery_method": {"values": ()},
    "order_lines.line_no": {"max": None},
    "order_lines.quantity": {"max": None},
    "order_lines.discount_pct": {"max": 100},
    "order_lines.vat_rate": {"values": (), "min": 0, "max": 1},
    "contracts.end_date": {"max": None},
    "activities.activity_type": {"values": ()},
    "activities.duration_min": {"max": None},
    "service_costs.cost_type": {"values": ()},
    "campaigns.channel": {"values": ()},
    "opportunities.lead_source": {"values": ()},
    "touchpoints.channel": {"values": ()},
    "touchpoints.touchpoint": {"values": ()},
    "surveys.channel": {"values": ()},
    "surveys.touchpoint": {"values": ()},
    "web_sessions.device": {"values": ()},
    "web_sessions.traffic_source": {"values": ()},
    "web_sessions.reviews_read": {"max": None},
}


def table(name: str) -> Table:
    """Return the declaration of table `name`."""
    try:
        return TABLE_BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown table {name!r}; the data world has {', '.join(TABLE_BY_NAME)}") from None
