"""The student runtime: what the course notebooks import, shipped whole in the student kit.

* :mod:`.lesson` – the setup cell's ``lesson.setup()`` (version check, warnings, display);
* :mod:`.paths` – where the data world is;
* :mod:`.schema`, :mod:`.data`, :mod:`.checks` – the data world's tables, reading them, checking them;
* :mod:`.crm` – the small CRM API over ``data/crm.sqlite``;
* :mod:`.importer` – a company's own export onto the schema (lesson 01 uses it; so does ``crmkit import``);
* :mod:`.errors` – the one base class of every error the kit raises.

Nothing here imports any other part of the kit (a test enforces it).
"""
