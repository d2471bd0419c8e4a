"""Finnish vocabulary of the data world: names, places, industries, products, texts.

Everything here is fictional; any likeness to a real person or firm is chance.
"""

from __future__ import annotations

COMPANY = "Paahtimo Aurora Oy"

FIRST_NAMES_F = ("Aino", "Anna", "Anni", "Eeva", "Elina", "Emilia", "Emma", "Hanna", "Heidi", "Iida", "Johanna",
                 "Julia", "Katja", "Kirsi", "Laura", "Leena", "Liisa", "Maija", "Marjo", "Minna", "Noora", "Oona",
                 "Pia", "Riikka", "Sanna", "Sari", "Satu", "Suvi", "Tiina", "Veera")
FIRST_NAMES_M = ("Aleksi", "Antti", "Eero", "Eetu", "Elias", "Harri", "Heikki", "Jani", "Jari", "Joonas", "Juha",
                 "Jukka", "Kalle", "Lauri", "Markku", "Matti", "Mikko", "Niko", "Olli", "Pekka", "Petri", "Sami",
                 "Teemu", "Timo", "Tomi", "Tuomas", "Ville", "Onni", "Veikko", "Otto")
LAST_NAMES = ("Aalto", "Heikkinen", "Hiltunen", "Hämäläinen", "Järvinen", "Kallio", "Karjalainen", "Koivisto",
              "Korhonen", "Koskinen", "Laaksonen", "Lahtinen", "Laine", "Lehtonen", "Leinonen", "Mäkelä", "Mäkinen",
              "Nieminen", "Niemi", "Ojala", "Peltonen", "Rantanen", "Saarinen", "Salminen", "Salo", "Tuominen",
              "Turunen", "Virtanen", "Väisänen", "Heinonen", "Kinnunen", "Lindholm", "Manninen", "Räsänen")

# city, region (maakunta), postcodes, weight among B2C customers, weight among B2B customers
CITIES = (
    ("Tampere", "Pirkanmaa", ("33100", "33200", "33210", "33500", "33540", "33720", "33900"), 0.24, 0.24),
    ("Nokia", "Pirkanmaa", ("37100", "37120"), 0.03, 0.02),
    ("Kangasala", "Pirkanmaa", ("36200", "36220"), 0.03, 0.02),
    ("Ylöjärvi", "Pirkanmaa", ("33470", "33480"), 0.03, 0.02),
    ("Helsinki", "Uusimaa", ("00100", "00120", "00180", "00250", "00500", "00530", "00710", "00940"), 0.22, 0.22),
    ("Espoo", "Uusimaa", ("02100", "02600", "02650", "02770"), 0.08, 0.07),
    ("Vantaa", "Uusimaa", ("01300", "01350", "01510"), 0.05, 0.05),
    ("Turku", "Varsinais-Suomi", ("20100", "20500", "20520", "20720"), 0.11, 0.10),
    ("Oulu", "Pohjois-Pohjanmaa", ("90100", "90130", "90500"), 0.04, 0.05),
    ("Jyväskylä", "Keski-Suomi", ("40100", "40320"), 0.04, 0.05),
    ("Lahti", "Päijät-Häme", ("15100", "15140"), 0.04, 0.05),
    ("Kuopio", "Pohjois-Savo", ("70100", "70500"), 0.03, 0.04),
    ("Pori", "Satakunta", ("28100", "28130"), 0.03, 0.04),
    ("Hämeenlinna", "Kanta-Häme", ("13100", "13200"), 0.03, 0.03),
)

# staff: id, name, role, region
STAFF = (
    ("S01", "Kaisa Lehtinen", "asiakkuuspäällikkö", "Pirkanmaa"),
    ("S02", "Mikko Aaltonen", "asiakkuuspäällikkö", "Pirkanmaa"),
    ("S03", "Sanna Virta", "asiakkuuspäällikkö", "Uusimaa"),
    ("S04", "Jussi Koivula", "asiakkuuspäällikkö", "Uusimaa"),
    ("S05", "Hanna Rinne", "asiakkuuspäällikkö", "Varsinais-Suomi"),
    ("S06", "Petteri Hakala", "asiakkuuspäällikkö", "Pohjois-Pohjanmaa"),
    ("S07", "Laura Sundström", "asiakkuuspäällikkö", "Keski-Suomi"),
    ("S08", "Antero Kivelä", "palvelupäällikkö", "koko maa"),
    ("S09", "Riikka Mattila", "palvelupäällikkö", "koko maa"),
    ("S10", "Tuomas Nurmi", "sisämyyjä", "koko maa"),
    ("S11", "Emmi Laitinen", "sisämyyjä", "koko maa"),
    ("S12", "Oskari Vainio", "sisämyyjä", "koko maa"),
)
# which account manager covers which region (others go to the Pirkanmaa and Uusimaa teams)
MANAGER_BY_REGION = {"Pirkanmaa": ("S01", "S02"), "Uusimaa": ("S03", "S04"), "Varsinais-Suomi": ("S05",),
                     "Pohjois-Pohjanmaa": ("S06",), "Keski-Suomi": ("S07",)}
SLACK_MANAGERS = ("S02", "S06")  # managers who let contact intervals slip (planted)

# B2B segments: TOL 2008 codes and names, name patterns, share of B2B customers
B2B_SEGMENTS = {
    "kahvila_ravintola": dict(share=0.40, industries=(("56302", "Kahvilat ja kahvibaarit"),
                                                      ("56101", "Ravintolat"),
                                                      ("56102", "Kahvila-ravintolat")),
                              prefixes=("Kahvila", "Ravintola", "Bistro", "Café", "Leipomokahvila"),
                              suffixes=("Oy", "Ky", "Oy", "Tmi")),
    "toimisto": dict(share=0.30, industries=(("62010", "Ohjelmistojen suunnittelu ja valmistus"),
                                             ("69201", "Tilintarkastustoiminta"),
                                             ("70220", "Muu liikkeenjohdon konsultointi"),
                                             ("71121", "Yhdyskuntasuunnittelu"),
                                             ("64190", "Muu pankkitoiminta"),
                                             ("86210", "Yleislääkäripalvelut")),
                     prefixes=("Insinööritoimisto", "Konsultointi", "Tilitoimisto", "Ohjelmisto", "Lääkäriasema",
                               "Suunnittelu"),
                     suffixes=("Oy", "Oy", "Oyj")),
    "hotelli_catering": dict(share=0.12, industries=(("55101", "Hotellit"), ("56210", "Pitopalvelu"),
                                                     ("56290", "Henkilöstö- ja laitosruokalat")),
                             prefixes=("Hotelli", "Catering", "Pitopalvelu", "Kylpylähotelli"),
                             suffixes=("Oy", "Oy")),
    "jalleenmyyja": dict(share=0.18, industries=(("47290", "Muu vähittäiskauppa erikoismyymälöissä"),
                                                 ("47112", "Supermarketit"),
                                                 ("47191", "Itsepalvelutavaratalot")),
                         prefixes=("Herkkupuoti", "Lähikauppa", "Delikatessi", "Kauppa", "Maatilapuoti"),
                         suffixes=("Oy", "Ky", "Oy")),
}
COMPANY_WORDS = ("Aurinko", "Kaski", "Kielo", "Koivu", "Kuura", "Laine", "Lumo", "Majakka", "Mesi", "Mänty",
                 "Nokka", "Pilvi", "Pohjola", "Puro", "Revontuli", "Ruska", "Saari", "Satama", "Selkä", "Tähti",
                 "Tuuli", "Vaahtera", "Valo", "Verso", "Vuono", "Helmi", "Kide", "Kajo", "Lähde", "Routa")

B2C_SEGMENTS = ("harrastaja", "arkiostaja", "tarjousmetsastaja", "lahjaostaja", "kokeilija")

# product_id, name, category, sold_to, is_premium, list_price (EUR excl. VAT), cost share of list price
PRODUCTS = (
    ("P001", "Pyynikki tumma paahto, pavut 500 g", "kahvipavut", "both", False, 9.90, 0.46),
    ("P002", "Aura vaalea paahto, pavut 500 g", "kahvipavut", "both", False, 9.50, 0.46),
    ("P003", "Etiopia Yirgacheffe, pavut 250 g", "kahvipavut", "B2C", True, 11.90, 0.40),
    ("P004", "Kenia AA, pavut 250 g", "kahvipavut", "B2C", True, 12.90, 0.40),
    ("P005", "Kolumbia Huila, pavut 250 g", "kahvipavut", "B2C", True, 10.90, 0.41),
    ("P006", "Guatemala Antigua, pavut 250 g", "kahvipavut", "both", True, 11.50, 0.40),
    ("P007", "Näsinneula espresso, pavut 1 kg", "kahvipavut", "B2B", False, 22.00, 0.58),
    ("P008", "Talon suodatinkahvi, pavut 1 kg", "kahvipavut", "B2B", False, 18.50, 0.60),
    ("P009", "Premium espresso, pavut 1 kg", "kahvipavut", "B2B", True, 27.00, 0.53),
    ("P010", "Pyynikki tumma paahto, jauhettu 500 g", "jauhettu", "both", False, 8.90, 0.48),
    ("P011", "Aura vaalea paahto, jauhettu 500 g", "jauhettu", "both", False, 8.50, 0.48),
    ("P012", "Kaupan kahvi, jauhettu 500 g (jälleenmyynti)", "jauhettu", "B2B", False, 5.90, 0.66),
    ("P013", "Suodatinjauhatus, 1 kg", "jauhettu", "B2B", False, 16.50, 0.60),
    ("P014", "Espressokapselit, 10 kpl", "kapselit", "both", False, 4.20, 0.45),
    ("P015", "Lungo-kapselit, 10 kpl", "kapselit", "both", False, 4.20, 0.45),
    ("P016", "Kapselilajitelma, 50 kpl", "kapselit", "B2B", False, 18.00, 0.56),
    ("P017", "Vihreä tee, irtotee 100 g", "tee", "both", False, 7.90, 0.40),
    ("P018", "Musta tee Assam, irtotee 100 g", "tee", "both", False, 7.50, 0.40),
    ("P019", "Teepussilajitelma, 100 kpl", "tee", "B2B", False, 14.00, 0.52),
    ("P020", "Käsikäyttöinen kahvimylly", "laitteet", "B2C", False, 39.00, 0.55),
    ("P021", "Suodatinkahvinkeitin", "laitteet", "both", False, 79.00, 0.60),
    ("P022", "Toimiston papukone", "laitteet", "B2B", False, 2400.00, 0.70),
    ("P023", "Espressokone, kaksi ryhmää", "laitteet", "B2B", False, 5900.00, 0.72),
    ("P024", "Huoltosopimus, kuukausimaksu", "huolto", "B2B", False, 69.00, 0.35),
    ("P025", "Laitehuolto, käynti", "huolto", "B2B", False, 140.00, 0.55),
    ("P026", "Kalkinpoistopalvelu", "huolto", "B2B", False, 45.00, 0.40),
    ("P027", "Lahjapakkaus: kolme paahtoa", "tarvikkeet", "B2C", True, 29.90, 0.45),
    ("P028", "Kahvikuppi, Aurora-muki", "tarvikkeet", "B2C", False, 14.90, 0.38),
    ("P029", "Suodatinpaperit, 100 kpl", "tarvikkeet", "both", False, 2.90, 0.45),
    ("P030", "Take away -mukit, 1000 kpl", "tarvikkeet", "B2B", False, 64.00, 0.66),
    ("P031", "Maitokannu, teräs", "tarvikkeet", "both", False, 19.90, 0.45),
    ("P032", "Joulukahvi, pavut 250 g", "kahvipavut", "B2C", True, 12.50, 0.40),
)
FOOD_CATEGORIES = ("kahvipavut", "jauhettu", "kapselit", "tee")

# care models of the portfolios: contact interval (days), main channel, owner role, activity plan
CARE_MODELS = (
    ("A", 30, "myyjän käynti", "asiakkuuspäällikkö",
     "Sopimusasiakas: hoito- ja aktiviteettisuunnitelma, kuukausittainen käynti, vuosipalaveri ja palveluraportti"),
    ("B", 60, "puhelin ja käynti", "asiakkuuspäällikkö",
     "Ostojen kasvattaminen: tarpeiden kartoitus, lisämyynti- ja kokeilutarjoukset, käynti kvartaaleittain"),
    ("C", 120, "puhelin", "sisämyyjä",
     "Yhteys tarvittaessa, kehitetään kohti B-salkkua: tuote-esittelyt ja kampanjat"),
    ("D", 365, "sähköposti", "sisämyyjä",
     "Ei aktiivisia panostuksia; seurataan kasvun merkkejä (tilausten kasvu, uusi toimipiste)"),
)

# survey comments by tone; keywords students should find go with the scores
COMMENTS_GOOD = ("Ystävällinen palvelu ja hyvä maku.", "Kahvin maku on erinomainen!", "Nopea toimitus, kiitos.",
                 "Myyjä oli ystävällinen ja asiantunteva.", "Tasaisen hyvä maku joka kerta.",
                 "Helppo tilata sovelluksella.", "Ystävällinen henkilökunta myymälässä.")
COMMENTS_MID = ("Hinta on vähän korkea, mutta maku on hyvä.", "Ihan ok.", "Toimitus kesti odotettua kauemmin.",
                "Valikoima voisi olla laajempi.", "Hinta-laatusuhde kohtuullinen.")
COMMENTS_BAD = ("Toimitus oli myöhässä.", "Paketti tuli myöhässä ja rikki.", "Liian kallis, hinta nousi taas.",
                "Puhelinpalvelussa piti jonottaa pitkään.", "Reklamaatioon ei vastattu.",
                "Toimitus myöhässä jo toisen kerran.", "Hinta ei vastaa laatua.")
ACTIVITY_NOTES = {
    "käynti": ("Käyty läpi kulutus ja tilausrytmi.", "Esitelty uusi espressopaahto.",
               "Vuosipalaveri: sovittu ensi vuoden tavoitteet.", "Tarkistettu laitteiden kunto."),
    "puhelu": ("Soitettu tilausmuistutus.", "Kysytty tyytyväisyyttä toimituksiin.", "Sovittu käyntiaika.",
               "Asiakas pyysi tarjousta."),
    "sähköposti": ("Lähetetty hinnasto.", "Lähetetty tarjous.", "Uutiskirje ja kampanjatarjous.",
                   "Vahvistettu tilaus."),
    "tapaaminen": ("Neuvoteltu sopimuksen jatkosta.", "Esitelty laitevaihtoehdot.", "Tarjouksen läpikäynti."),
    "webinaari": ("Osallistui baristawebinaariin.", "Osallistui kahvinmaistelu-webinaariin."),
}
LOST_REASONS = ("hinta", "kilpailija valittiin", "ei tarvetta nyt", "budjetti", "päättäjää ei tavoitettu")
CONTACT_TITLES = {
    "päättäjä": ("toimitusjohtaja", "ravintolapäällikkö", "yrittäjä", "hotellinjohtaja"),
    "ostaja": ("hankintapäällikkö", "ostaja", "toimistopäällikkö"),
    "käyttäjä": ("baristavastaava", "keittiöpäällikkö", "vuoropäällikkö"),
    "vaikuttaja": ("talouspäällikkö", "HR-päällikkö", "kahvilavastaava"),
    "portinvartija": ("assistentti", "vastaanottovirkailija", "toimistosihteeri"),
}
